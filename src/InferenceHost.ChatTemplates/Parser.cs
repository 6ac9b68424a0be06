namespace InferenceHost.ChatTemplates;

/// <summary>
/// Statements: <c>if/elif/else</c>, <c>for ... in ... [if ...]</c> with <c>else</c>, <c>set</c> (names, tuples,
/// namespace attributes, blocks), <c>macro</c>, <c>break</c>/<c>continue</c> and Hugging Face's <c>generation</c>
/// block. Anything else is a <see cref="TemplateSyntaxException"/> naming its line and column.
/// </summary>
internal sealed partial class Parser
{
    private readonly List<Token> tokens;
    private readonly List<(string Name, Pos At)> calledNames = [];
    private readonly HashSet<string> macroNames = new(StringComparer.Ordinal);
    private int index;
    private int loopDepth;

    private Parser(List<Token> tokens) => this.tokens = tokens;

    public static IReadOnlyList<Stmt> Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        var (body, _) = parser.ParseBody([]);
        parser.CheckCalls();
        return body;
    }

    private Token Current => index < tokens.Count ? tokens[index] : EndToken();

    private Token Peek(int ahead) => index + ahead < tokens.Count ? tokens[index + ahead] : EndToken();

    private Token EndToken()
    {
        var last = tokens.Count > 0 ? tokens[^1] : new Token(TokenKind.End, string.Empty, 1, 1);
        return new Token(TokenKind.End, string.Empty, last.Line, last.Column + last.Value.Length);
    }

    private Token Next() => tokens.Count > index ? tokens[index++] : EndToken();

    private static Pos At(Token t) => new(t.Line, t.Column);

    private static TemplateSyntaxException Error(Token t, string detail) => new(detail, t.Line, t.Column);

    private static string Describe(Token t) => t.Kind switch
    {
        TokenKind.End => "the end of the template",
        TokenKind.BlockEnd or TokenKind.VariableEnd => $"'{t.Value}'",
        TokenKind.Text => "text",
        _ => $"'{t.Value}'",
    };

    private Token Expect(TokenKind kind, string? value, string what)
    {
        var t = Current;
        if (t.Kind != kind || (value is not null && t.Value != value))
        {
            throw Error(t, $"expected {what}, found {Describe(t)}");
        }

        return Next();
    }

    private void ExpectBlockEnd() => Expect(TokenKind.BlockEnd, null, "'%}'");

    private string ExpectName(string what) => Expect(TokenKind.Name, null, what).Value;

    /// <summary>Statements up to a block tag named in <paramref name="ends"/>; returns the body and that tag's name token.</summary>
    private (List<Stmt> Body, Token End) ParseBody(string[] ends)
    {
        var body = new List<Stmt>();
        while (true)
        {
            var t = Next();
            switch (t.Kind)
            {
                case TokenKind.Text:
                    body.Add(new TextStmt(At(t), t.Value));
                    break;
                case TokenKind.VariableBegin:
                    body.Add(new OutputStmt(At(t), ParseTuple()));
                    Expect(TokenKind.VariableEnd, null, "'}}'");
                    break;
                case TokenKind.BlockBegin:
                    var name = Expect(TokenKind.Name, null, "a tag name");
                    if (ends.Contains(name.Value))
                    {
                        return (body, name);
                    }

                    body.Add(ParseTag(name));
                    break;
                case TokenKind.End when ends.Length == 0:
                    return (body, t);
                default:
                    throw Error(t, ends.Length > 0
                        ? $"expected {string.Join(" or ", ends.Select(e => $"'{{% {e} %}}'"))}, found {Describe(t)}"
                        : $"unexpected {Describe(t)}");
            }
        }
    }

    private Stmt ParseTag(Token name) => name.Value switch
    {
        "if" => ParseIf(name),
        "for" => ParseFor(name),
        "set" => ParseSet(name),
        "macro" => ParseMacro(name),
        "break" or "continue" => ParseLoopControl(name),
        "generation" => ParseGeneration(name),
        "elif" or "else" or "endif" or "endfor" or "endset" or "endmacro" or "endgeneration" =>
            throw Error(name, $"'{name.Value}' without a matching opening tag"),
        _ => throw Error(name, $"the tag '{name.Value}' is not supported"),
    };

    private IfStmt ParseIf(Token tag)
    {
        var branches = new List<(Expr?, IReadOnlyList<Stmt>)>();
        Expr? condition = ParseExpression();
        while (true)
        {
            ExpectBlockEnd();
            var (body, end) = ParseBody(condition is null ? ["endif"] : ["elif", "else", "endif"]);
            branches.Add((condition, body));
            if (end.Value == "endif")
            {
                ExpectBlockEnd();
                return new IfStmt(At(tag), branches);
            }

            condition = end.Value == "elif" ? ParseExpression() : null;
        }
    }

    private ForStmt ParseFor(Token tag)
    {
        var (targets, unpack) = ParseTargets();
        Expect(TokenKind.Name, "in", "'in'");
        var iterable = ParseExpression(withCondition: false);
        Expr? filter = null;
        if (Current.IsName("if"))
        {
            Next();
            filter = ParseExpression(withCondition: false);
        }

        if (Current.IsName("recursive"))
        {
            throw Error(Current, "recursive loops are not supported");
        }

        ExpectBlockEnd();
        loopDepth++;
        var (body, end) = ParseBody(["else", "endfor"]);
        loopDepth--;
        List<Stmt> otherwise = [];
        if (end.Value == "else")
        {
            ExpectBlockEnd();
            (otherwise, _) = ParseBody(["endfor"]);
        }

        ExpectBlockEnd();
        return new ForStmt(At(tag), targets, unpack, iterable, filter, body, otherwise);
    }

    private (List<string> Names, bool Unpack) ParseTargets()
    {
        bool parenthesized = Current.IsOperator("(");
        if (parenthesized)
        {
            Next();
        }

        var names = new List<string> { ExpectName("a variable name") };
        bool unpack = parenthesized;
        while (Current.IsOperator(","))
        {
            Next();
            unpack = true;
            if (Current.Kind == TokenKind.Name && !Current.IsName("in"))
            {
                names.Add(Next().Value);
            }
        }

        if (parenthesized)
        {
            Expect(TokenKind.Operator, ")", "')'");
        }

        return (names, unpack);
    }

    private Stmt ParseSet(Token tag)
    {
        if (Current.Kind == TokenKind.Name && Peek(1).IsOperator("."))
        {
            var ns = Next().Value;
            Next();
            var attribute = ExpectName("an attribute name");
            Expect(TokenKind.Operator, "=", "'='");
            var value = ParseTuple();
            ExpectBlockEnd();
            return new SetStmt(At(tag), [ns], false, attribute, value);
        }

        var (targets, unpack) = ParseTargets();
        if (Current.Kind == TokenKind.BlockEnd && !unpack)
        {
            Next();
            var (body, _) = ParseBody(["endset"]);
            ExpectBlockEnd();
            return new SetBlockStmt(At(tag), targets[0], body);
        }

        Expect(TokenKind.Operator, "=", "'='");
        var assigned = ParseTuple();
        ExpectBlockEnd();
        return new SetStmt(At(tag), targets, unpack, null, assigned);
    }

    private MacroStmt ParseMacro(Token tag)
    {
        var name = ExpectName("a macro name");
        macroNames.Add(name);
        Expect(TokenKind.Operator, "(", "'('");
        var parameters = new List<(string, Expr?)>();
        while (!Current.IsOperator(")"))
        {
            var parameter = ExpectName("a parameter name");
            Expr? fallback = null;
            if (Current.IsOperator("="))
            {
                Next();
                fallback = ParseExpression();
            }

            parameters.Add((parameter, fallback));
            if (!Current.IsOperator(","))
            {
                break;
            }

            Next();
        }

        Expect(TokenKind.Operator, ")", "')'");
        ExpectBlockEnd();
        int outerLoops = loopDepth;
        loopDepth = 0;
        var (body, _) = ParseBody(["endmacro"]);
        loopDepth = outerLoops;
        ExpectBlockEnd();
        return new MacroStmt(At(tag), name, parameters, body);
    }

    private LoopControlStmt ParseLoopControl(Token tag)
    {
        if (loopDepth == 0)
        {
            throw Error(tag, $"'{tag.Value}' outside a for loop");
        }

        ExpectBlockEnd();
        return new LoopControlStmt(At(tag), tag.Value == "break");
    }

    // Hugging Face's {% generation %} marks assistant text for masks; rendering just outputs its body.
    private IfStmt ParseGeneration(Token tag)
    {
        ExpectBlockEnd();
        var (body, _) = ParseBody(["endgeneration"]);
        ExpectBlockEnd();
        return new IfStmt(At(tag), [(null, body)]);
    }

    /// <summary>Calls of plain names must reach a global function or a macro of this template.</summary>
    private void CheckCalls()
    {
        foreach (var (name, at) in calledNames)
        {
            if (!Globals.Names.Contains(name) && !macroNames.Contains(name))
            {
                throw new TemplateSyntaxException($"'{name}' is not a supported function or a macro of this template", at.Line, at.Column);
            }
        }
    }
}
