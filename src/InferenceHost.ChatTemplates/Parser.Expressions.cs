namespace InferenceHost.ChatTemplates;

/// <summary>
/// Expressions with Jinja's precedence, loosest first: <c>a if b else c</c>, <c>or</c>, <c>and</c>, <c>not</c>,
/// comparisons and <c>in</c>, <c>+ -</c>, <c>~</c>, <c>* / // %</c>, <c>**</c>, unary <c>- +</c>, then
/// postfix <c>.attr</c>, <c>[key]</c>, <c>[a:b:c]</c>, calls, <c>|filter</c> and <c>is test</c>.
/// </summary>
internal sealed partial class Parser
{
    private static readonly string[] CompareOps = ["==", "!=", "<", "<=", ">", ">="];

    /// <summary>An expression, or a tuple when commas follow (<c>{{ a, b }}</c>, <c>set x = 1, 2</c>).</summary>
    private Expr ParseTuple()
    {
        var first = ParseExpression();
        if (!Current.IsOperator(","))
        {
            return first;
        }

        var items = new List<Expr> { first };
        while (Current.IsOperator(","))
        {
            Next();
            if (Current.Kind is TokenKind.BlockEnd or TokenKind.VariableEnd || Current.IsOperator(")"))
            {
                break;
            }

            items.Add(ParseExpression());
        }

        return new ListExpr(first.At, items, IsTuple: true);
    }

    private Expr ParseExpression(bool withCondition = true)
    {
        var expr = ParseOr();
        while (withCondition && Current.IsName("if"))
        {
            var at = At(Next());
            var condition = ParseOr();
            Expr? otherwise = null;
            if (Current.IsName("else"))
            {
                Next();
                otherwise = ParseExpression();
            }

            expr = new CondExpr(at, condition, expr, otherwise);
        }

        return expr;
    }

    private Expr ParseOr() => ParseLeftAssoc(ParseAnd, t => t.IsName("or"));

    private Expr ParseAnd() => ParseLeftAssoc(ParseNot, t => t.IsName("and"));

    private Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            var at = At(Next());
            return new UnaryExpr(at, "not", ParseNot());
        }

        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            string op;
            if (Current.Kind == TokenKind.Operator && CompareOps.Contains(Current.Value))
            {
                op = Next().Value;
            }
            else if (Current.IsName("in"))
            {
                Next();
                op = "in";
            }
            else if (Current.IsName("not") && Peek(1).IsName("in"))
            {
                index += 2;
                op = "not in";
            }
            else
            {
                break;
            }

            rest.Add((op, ParseMath1()));
        }

        return rest.Count == 0 ? first : new CompareExpr(first.At, first, rest);
    }

    private Expr ParseMath1() => ParseLeftAssoc(ParseConcat, t => t.IsOperator("+") || t.IsOperator("-"));

    private Expr ParseConcat() => ParseLeftAssoc(ParseMath2, t => t.IsOperator("~"));

    private Expr ParseMath2() => ParseLeftAssoc(ParsePow, t => t.Kind == TokenKind.Operator && t.Value is "*" or "/" or "//" or "%");

    private Expr ParsePow() => ParseLeftAssoc(() => ParseUnary(), t => t.IsOperator("**"));

    private Expr ParseLeftAssoc(Func<Expr> operand, Func<Token, bool> isOp)
    {
        var left = operand();
        while (isOp(Current))
        {
            var op = Next();
            left = new BinaryExpr(At(op), op.Value, left, operand());
        }

        return left;
    }

    private Expr ParseUnary(bool withFilters = true)
    {
        Expr node;
        if (Current.IsOperator("-") || Current.IsOperator("+"))
        {
            var op = Next();
            node = new UnaryExpr(At(op), op.Value, ParseUnary(withFilters: false));
        }
        else
        {
            node = ParsePrimary();
        }

        node = ParsePostfix(node);
        return withFilters ? ParseFiltersAndTests(node) : node;
    }

    private Expr ParsePrimary()
    {
        var t = Next();
        var at = At(t);
        switch (t.Kind)
        {
            case TokenKind.Name:
                return t.Value switch
                {
                    "true" or "True" => new LiteralExpr(at, true),
                    "false" or "False" => new LiteralExpr(at, false),
                    "none" or "None" => new LiteralExpr(at, null),
                    _ => new NameExpr(at, t.Value),
                };
            case TokenKind.String:
                var text = (string)t.Literal!;
                while (Current.Kind == TokenKind.String)
                {
                    text += (string)Next().Literal!; // adjacent literals concatenate, as in Python
                }

                return new LiteralExpr(at, text);
            case TokenKind.Integer or TokenKind.Float:
                return new LiteralExpr(at, t.Literal);
            case TokenKind.Operator when t.Value == "(":
                if (Current.IsOperator(")"))
                {
                    Next();
                    return new ListExpr(at, [], IsTuple: true);
                }

                var inner = ParseTuple();
                Expect(TokenKind.Operator, ")", "')'");
                return inner;
            case TokenKind.Operator when t.Value == "[":
                return new ListExpr(at, ParseSequence("]", () => ParseExpression()), IsTuple: false);
            case TokenKind.Operator when t.Value == "{":
                return new DictExpr(at, ParseSequence<(Expr, Expr)>("}", () =>
                {
                    var key = ParseExpression();
                    Expect(TokenKind.Operator, ":", "':'");
                    return (key, ParseExpression());
                }));
            default:
                throw Error(t, $"expected an expression, found {Describe(t)}");
        }
    }

    private List<T> ParseSequence<T>(string close, Func<T> item)
    {
        var items = new List<T>();
        while (!Current.IsOperator(close))
        {
            items.Add(item());
            if (!Current.IsOperator(","))
            {
                break;
            }

            Next();
        }

        Expect(TokenKind.Operator, close, $"'{close}'");
        return items;
    }
}
