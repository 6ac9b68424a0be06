using System.Globalization;
using System.Text;

namespace InferenceHost.ChatTemplates;

/// <summary>Python's <c>json.dumps</c> as Hugging Face's <c>tojson</c> calls it: key order kept, non-ASCII kept, ", " and ": " separators.</summary>
internal static class PyJson
{
    public static string Dumps(object? value, string? indent = null, (string Item, string Key)? separators = null, bool sortKeys = false, bool ensureAscii = false)
    {
        var seps = separators ?? (indent is null ? (", ", ": ") : (",", ": "));
        var sb = new StringBuilder();
        Write(sb, value, indent, seps, sortKeys, ensureAscii, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? v, string? indent, (string Item, string Key) seps, bool sortKeys, bool ascii, int depth)
    {
        switch (v)
        {
            case null:
                sb.Append("null");
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : Py.FloatRepr(d));
                break;
            case string s:
                WriteString(sb, s, ascii);
                break;
            case OrderedDictionary<string, object?> dict:
                var pairs = sortKeys ? dict.OrderBy(p => p.Key, StringComparer.Ordinal).ToList() : dict.ToList();
                WriteContainer(sb, '{', '}', pairs.Count, indent, seps.Item, depth, i =>
                {
                    WriteString(sb, pairs[i].Key, ascii);
                    sb.Append(seps.Key);
                    Write(sb, pairs[i].Value, indent, seps, sortKeys, ascii, depth + 1);
                });
                break;
            case IReadOnlyList<object?> list:
                WriteContainer(sb, '[', ']', list.Count, indent, seps.Item, depth, i => Write(sb, list[i], indent, seps, sortKeys, ascii, depth + 1));
                break;
            case Namespace ns:
                Write(sb, new OrderedDictionary<string, object?>(ns.Attributes, StringComparer.Ordinal), indent, seps, sortKeys, ascii, depth);
                break;
            default:
                throw new TemplateRuntimeException(v is Undefined u ? u.Description : $"Object of type {Py.TypeName(v)} is not JSON serializable");
        }
    }

    private static void WriteContainer(StringBuilder sb, char open, char close, int count, string? indent, string itemSep, int depth, Action<int> item)
    {
        sb.Append(open);
        if (count == 0)
        {
            sb.Append(close);
            return;
        }

        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(itemSep);
            }

            if (indent is not null)
            {
                sb.Append('\n').Insert(sb.Length, indent, depth + 1);
            }

            item(i);
        }

        if (indent is not null)
        {
            sb.Append('\n').Insert(sb.Length, indent, depth);
        }

        sb.Append(close);
    }

    private static void WriteString(StringBuilder sb, string s, bool ascii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case < ' ':
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                case > '\x7f' when ascii:
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }

        sb.Append('"');
    }
}
