using System.Globalization;
using System.Text;

namespace InferenceHost.ChatTemplates;

/// <summary>Backslash escapes of Jinja string literals (Python's <c>unicode-escape</c>); unknown ones stay as written.</summary>
internal static class Escapes
{
    /// <summary>Decodes the escape at <paramref name="at"/> (a backslash) into <paramref name="sb"/>; returns the index after it.</summary>
    public static int Decode(string s, int at, StringBuilder sb)
    {
        char c = s[at + 1];
        switch (c)
        {
            case '\n': return at + 2; // a line continuation
            case '\\' or '\'' or '"': sb.Append(c); return at + 2;
            case 'n': sb.Append('\n'); return at + 2;
            case 't': sb.Append('\t'); return at + 2;
            case 'r': sb.Append('\r'); return at + 2;
            case 'a': sb.Append('\a'); return at + 2;
            case 'b': sb.Append('\b'); return at + 2;
            case 'f': sb.Append('\f'); return at + 2;
            case 'v': sb.Append('\v'); return at + 2;
            case 'x': return Hex(s, at, 2, sb);
            case 'u': return Hex(s, at, 4, sb);
            case 'U': return Hex(s, at, 8, sb);
            case >= '0' and <= '7':
                int end = at + 1, value = 0;
                for (; end < s.Length && end < at + 4 && s[end] is >= '0' and <= '7'; end++)
                {
                    value = (value * 8) + (s[end] - '0');
                }

                sb.Append((char)value);
                return end;
            default:
                sb.Append('\\').Append(c);
                return at + 2;
        }
    }

    private static int Hex(string s, int at, int digits, StringBuilder sb)
    {
        int start = at + 2;
        if (start + digits > s.Length || !int.TryParse(s.AsSpan(start, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value)
            || value > 0x10FFFF)
        {
            sb.Append('\\').Append(s[at + 1]);
            return at + 2;
        }

        sb.Append(value is >= 0xD800 and <= 0xDFFF ? ((char)value).ToString() : char.ConvertFromUtf32(value));
        return start + digits;
    }
}
