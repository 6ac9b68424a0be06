namespace InferenceHost.ChatTemplates;

/// <summary>
/// Postfix expressions: <c>.attr</c>, <c>[key]</c>, slices, calls (only functions, macros and supported
/// methods), <c>|filter(args)</c> and <c>is [not] test [arg]</c>; unknown filters, tests and methods fail here.
/// </summary>
internal sealed partial class Parser
{
    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("."))
            {
                Next();
                var name = Next();
                node = name.Kind switch
                {
                    TokenKind.Name => new AttrExpr(At(t), node, name.Value),
                    TokenKind.Integer => new ItemExpr(At(t), node, new LiteralExpr(At(name), name.Literal)),
                    _ => throw Error(name, $"expected an attribute name after '.', found {Describe(name)}"),
                };
            }
            else if (t.IsOperator("["))
            {
                Next();
                node = ParseSubscript(node, At(t));
            }
            else if (t.IsOperator("("))
            {
                node = ParseCall(node);
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseSubscript(Expr target, Pos at)
    {
        Expr? Part(params string[] stops) => stops.Any(Current.IsOperator) ? null : ParseExpression();
        var start = Part(":", "]");
        if (!Current.IsOperator(":"))
        {
            Expect(TokenKind.Operator, "]", "']'");
            return new ItemExpr(at, target, start ?? throw Error(Current, "expected an index"));
        }

        Next();
        var stop = Part(":", "]");
        Expr? step = null;
        if (Current.IsOperator(":"))
        {
            Next();
            step = Part("]");
        }

        Expect(TokenKind.Operator, "]", "']'");
        return new SliceExpr(at, target, start, stop, step);
    }

    private CallExpr ParseCall(Expr callee)
    {
        var at = At(Current);
        switch (callee)
        {
            case NameExpr n:
                calledNames.Add((n.Name, n.At));
                break;
            case AttrExpr a when !Methods.Names.Contains(a.Name):
                throw new TemplateSyntaxException($"the method '{a.Name}' is not supported", a.At.Line, a.At.Column);
            case AttrExpr:
                break;
            default:
                throw new TemplateSyntaxException("only functions, macros and methods can be called", at.Line, at.Column);
        }

        return new CallExpr(at, callee, ParseArgs());
    }

    private Args ParseArgs()
    {
        Expect(TokenKind.Operator, "(", "'('");
        var positional = new List<Expr>();
        var named = new List<(string, Expr)>();
        while (!Current.IsOperator(")"))
        {
            if (Current.IsOperator("*") || Current.IsOperator("**"))
            {
                throw Error(Current, "*args and **kwargs are not supported");
            }

            if (Current.Kind == TokenKind.Name && Peek(1).IsOperator("="))
            {
                var name = Next().Value;
                Next();
                named.Add((name, ParseExpression()));
            }
            else if (named.Count > 0)
            {
                throw Error(Current, "a positional argument follows a keyword argument");
            }
            else
            {
                positional.Add(ParseExpression());
            }

            if (!Current.IsOperator(","))
            {
                break;
            }

            Next();
        }

        Expect(TokenKind.Operator, ")", "')'");
        return new Args(positional, named);
    }

    private Expr ParseFiltersAndTests(Expr node)
    {
        while (true)
        {
            if (Current.IsOperator("|"))
            {
                var bar = Next();
                var name = Expect(TokenKind.Name, null, "a filter name");
                if (!Filters.Names.Contains(name.Value))
                {
                    throw Error(name, $"the filter '{name.Value}' is not supported");
                }

                node = new FilterExpr(At(bar), node, name.Value, Current.IsOperator("(") ? ParseArgs() : Args.None);
            }
            else if (Current.IsName("is"))
            {
                node = ParseTest(node);
            }
            else if (Current.IsOperator("("))
            {
                node = ParseCall(node);
            }
            else
            {
                return node;
            }
        }
    }

    private TestExpr ParseTest(Expr node)
    {
        var at = At(Next());
        bool negated = Current.IsName("not");
        if (negated)
        {
            Next();
        }

        var name = Expect(TokenKind.Name, null, "a test name");
        if (!Tests.Names.Contains(name.Value))
        {
            throw Error(name, $"the test '{name.Value}' is not supported");
        }

        var args = Args.None;
        var t = Current;
        if (t.IsOperator("("))
        {
            args = ParseArgs();
        }
        else if ((t.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float || t.IsOperator("[") || t.IsOperator("{"))
            && !t.IsName("else") && !t.IsName("or") && !t.IsName("and"))
        {
            args = new Args([ParsePostfix(ParsePrimary())], []);
        }

        return new TestExpr(at, node, name.Value, args, negated);
    }
}
