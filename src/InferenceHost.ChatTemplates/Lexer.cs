namespace InferenceHost.ChatTemplates;

internal enum TokenKind { Text, VariableBegin, VariableEnd, BlockBegin, BlockEnd, Name, String, Integer, Float, Operator, End }

internal readonly record struct Token(TokenKind Kind, string Value, int Line, int Column, object? Literal = null)
{
    public bool Is(TokenKind kind, string value) => Kind == kind && Value == value;

    public bool IsOperator(string op) => Is(TokenKind.Operator, op);

    public bool IsName(string name) => Is(TokenKind.Name, name);
}

/// <summary>
/// Splits a template into text and tag tokens as Jinja's lexer does in Hugging Face's environment
/// (<c>trim_blocks=True, lstrip_blocks=True</c>, <c>keep_trailing_newline=False</c>): <c>{%-</c> and <c>-%}</c>
/// strip all whitespace on their side, <c>{%+</c> keeps the indentation, <c>+%}</c> keeps the newline.
/// </summary>
internal sealed partial class Lexer
{
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"];

    private readonly string src;
    private readonly List<int> lineStarts = [0];
    private readonly List<Token> tokens = [];
    private int pos;

    private Lexer(string source)
    {
        // Jinja normalizes newlines and drops one trailing newline of the source.
        src = source.Replace("\r\n", "\n").Replace('\r', '\n');
        if (src.EndsWith('\n'))
        {
            src = src[..^1];
        }

        for (int i = src.IndexOf('\n'); i >= 0; i = src.IndexOf('\n', i + 1))
        {
            lineStarts.Add(i + 1);
        }
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return lexer.tokens;
    }

    private void Run()
    {
        while (pos < src.Length)
        {
            int tag = NextTagStart(pos);
            if (tag < 0)
            {
                Emit(TokenKind.Text, src[pos..], pos);
                return;
            }

            char kind = src[tag + 1];
            char sign = tag + 2 < src.Length && src[tag + 2] is '-' or '+' ? src[tag + 2] : '\0';
            var text = src[pos..tag];
            if (sign == '-')
            {
                text = text.TrimEnd();
            }
            else if (sign != '+' && kind != '{')
            {
                text = LstripBlock(text, pos);
            }

            if (text.Length > 0)
            {
                Emit(TokenKind.Text, text, pos);
            }

            pos = tag + 2 + (sign == '\0' ? 0 : 1);
            if (kind == '#')
            {
                SkipComment(tag);
            }
            else
            {
                LexTag(tag, kind == '%');
            }
        }
    }

    private int NextTagStart(int from)
    {
        for (int i = src.IndexOf('{', from); i >= 0 && i + 1 < src.Length; i = src.IndexOf('{', i + 1))
        {
            if (src[i + 1] is '{' or '%' or '#')
            {
                return i;
            }
        }

        return -1;
    }

    // lstrip_blocks: spaces and tabs between the start of the line and a block or comment tag go.
    private string LstripBlock(string text, int textStart)
    {
        int lineStart = text.LastIndexOf('\n') + 1;
        bool atLineStart = lineStart > 0 || textStart == 0 || src[textStart - 1] == '\n';
        bool blank = lineStart < text.Length && text.AsSpan(lineStart).IndexOfAnyExcept(" \t\v\f") < 0;
        return atLineStart && blank ? text[..lineStart] : text;
    }

    private void SkipComment(int start)
    {
        int end = src.IndexOf("#}", pos, StringComparison.Ordinal);
        if (end < 0)
        {
            throw Error("the comment is not closed with '#}'", start);
        }

        char sign = end > pos ? src[end - 1] : '\0';
        pos = end + 2;
        AfterTagEnd(sign);
    }

    private void LexTag(int start, bool block)
    {
        Emit(block ? TokenKind.BlockBegin : TokenKind.VariableBegin, block ? "{%" : "{{", start);
        var brackets = new Stack<(char, int)>();
        var close = block ? "%}" : "}}";
        while (true)
        {
            while (pos < src.Length && char.IsWhiteSpace(src[pos]))
            {
                pos++;
            }

            if (pos >= src.Length)
            {
                throw Error($"the tag is not closed with '{close}'", start);
            }

            if (brackets.Count == 0 && TryTagEnd(close, block))
            {
                return;
            }

            LexToken(brackets);
        }
    }

    private bool TryTagEnd(string close, bool block)
    {
        char sign = src[pos] is '-' or '+' ? src[pos] : '\0';
        int at = pos + (sign == '\0' ? 0 : 1);
        if (string.CompareOrdinal(src, at, close, 0, 2) != 0 || (sign == '+' && !block))
        {
            return false;
        }

        Emit(block ? TokenKind.BlockEnd : TokenKind.VariableEnd, close, pos);
        pos = at + 2;
        AfterTagEnd(block ? sign : sign == '-' ? '-' : '+');
        return true;
    }

    // After a tag: '-' strips all following whitespace, '+' keeps it, otherwise trim_blocks drops one newline.
    private void AfterTagEnd(char sign)
    {
        if (sign == '-')
        {
            while (pos < src.Length && char.IsWhiteSpace(src[pos]))
            {
                pos++;
            }
        }
        else if (sign != '+' && pos < src.Length && src[pos] == '\n')
        {
            pos++;
        }
    }

    private void Emit(TokenKind kind, string value, int at, object? literal = null)
    {
        var (line, column) = Position(at);
        tokens.Add(new Token(kind, value, line, column, literal ?? (kind == TokenKind.Text ? value : null)));
    }

    private (int Line, int Column) Position(int at)
    {
        int index = lineStarts.BinarySearch(at);
        int line = index >= 0 ? index : ~index - 1;
        return (line + 1, at - lineStarts[line] + 1);
    }

    private TemplateSyntaxException Error(string detail, int at)
    {
        var (line, column) = Position(at);
        return new TemplateSyntaxException(detail, line, column);
    }
}
