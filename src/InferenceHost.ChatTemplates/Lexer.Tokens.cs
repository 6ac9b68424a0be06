using System.Globalization;
using System.Text;

namespace InferenceHost.ChatTemplates;

/// <summary>The tokens inside a tag: names, numbers, strings and operators, with brackets balanced.</summary>
internal sealed partial class Lexer
{
    private void LexToken(Stack<(char Open, int At)> brackets)
    {
        char c = src[pos];
        int start = pos;
        if (char.IsAsciiLetter(c) || c == '_')
        {
            while (pos < src.Length && (char.IsAsciiLetterOrDigit(src[pos]) || src[pos] == '_'))
            {
                pos++;
            }

            Emit(TokenKind.Name, src[start..pos], start);
        }
        else if (char.IsAsciiDigit(c))
        {
            LexNumber(start);
        }
        else if (c is '\'' or '"')
        {
            LexString(start, c);
        }
        else
        {
            var op = Operators.FirstOrDefault(o => string.CompareOrdinal(src, pos, o, 0, o.Length) == 0)
                ?? throw Error($"unexpected character '{c}'", start);
            Balance(brackets, op[0], start);
            pos += op.Length;
            Emit(TokenKind.Operator, op, start);
        }
    }

    private void Balance(Stack<(char Open, int At)> brackets, char c, int at)
    {
        if (c is '(' or '[' or '{')
        {
            brackets.Push((c, at));
        }
        else if (c is ')' or ']' or '}')
        {
            char expected = c == ')' ? '(' : c == ']' ? '[' : '{';
            if (brackets.Count == 0 || brackets.Pop().Open != expected)
            {
                throw Error($"unexpected '{c}'", at);
            }
        }
    }

    private void LexNumber(int start)
    {
        static bool Digit(char ch) => char.IsAsciiDigit(ch) || ch == '_';
        while (pos < src.Length && Digit(src[pos]))
        {
            pos++;
        }

        // "foo.0" is an attribute: a number directly after '.' stays an integer.
        bool afterDot = tokens.Count > 0 && tokens[^1].IsOperator(".") && start > 0 && src[start - 1] == '.';
        bool isFloat = false;
        if (!afterDot && pos + 1 < src.Length && src[pos] == '.' && char.IsAsciiDigit(src[pos + 1]))
        {
            isFloat = true;
            for (pos++; pos < src.Length && Digit(src[pos]); pos++)
            {
            }
        }

        if (!afterDot && pos < src.Length && src[pos] is 'e' or 'E')
        {
            int save = pos++;
            if (pos < src.Length && src[pos] is '+' or '-')
            {
                pos++;
            }

            if (pos < src.Length && char.IsAsciiDigit(src[pos]))
            {
                isFloat = true;
                while (pos < src.Length && Digit(src[pos]))
                {
                    pos++;
                }
            }
            else
            {
                pos = save;
            }
        }

        var text = src[start..pos].Replace("_", string.Empty);
        object value = isFloat ? (object)double.Parse(text, CultureInfo.InvariantCulture) : long.Parse(text, CultureInfo.InvariantCulture);
        Emit(isFloat ? TokenKind.Float : TokenKind.Integer, text, start, value);
    }

    private void LexString(int start, char quote)
    {
        var sb = new StringBuilder();
        for (pos++; ; pos++)
        {
            if (pos >= src.Length)
            {
                throw Error("the string is not closed", start);
            }

            char c = src[pos];
            if (c == quote)
            {
                pos++;
                break;
            }

            if (c == '\\' && pos + 1 < src.Length)
            {
                pos = Escapes.Decode(src, pos, sb) - 1;
            }
            else
            {
                sb.Append(c);
            }
        }

        Emit(TokenKind.String, src[start..pos], start, sb.ToString());
    }
}
