using System.Collections;
using System.Globalization;
using System.Text;

namespace InferenceHost.ChatTemplates;

/// <summary>Python's meaning of truth, text, equality, order, length and iteration for template values.</summary>
internal static class Py
{
    public static bool Truthy(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        ICollection c => c.Count > 0,
        _ => true,
    };

    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        Undefined => "undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        object?[] => "tuple",
        List<object?> => "list",
        OrderedDictionary<string, object?> => "dict",
        Namespace => "namespace",
        LoopInfo => "loop",
        _ => "function",
    };

    /// <summary><c>str(v)</c>; Undefined is the empty string.</summary>
    public static string Str(object? v) => v switch
    {
        string s => s,
        Undefined => string.Empty,
        _ => Repr(v),
    };

    public static string Repr(object? v) => v switch
    {
        null => "None",
        Undefined => string.Empty,
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatRepr(d),
        string s => StringRepr(s),
        object?[] t => t.Length == 1 ? $"({Repr(t[0])},)" : "(" + string.Join(", ", t.Select(Repr)) + ")",
        List<object?> list => "[" + string.Join(", ", list.Select(Repr)) + "]",
        OrderedDictionary<string, object?> d => "{" + string.Join(", ", d.Select(p => StringRepr(p.Key) + ": " + Repr(p.Value))) + "}",
        Namespace n => "<Namespace " + Repr(new OrderedDictionary<string, object?>(n.Attributes)) + ">",
        Function f => $"<function {f.Name}>",
        _ => "<loop>",
    };

    /// <summary>Python's float repr: the shortest round-trip digits, exponent form below 1e-4 and from 1e16.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }

        var s = d.ToString("R", CultureInfo.InvariantCulture);
        var sign = s[0] == '-' ? "-" : string.Empty;
        s = s.TrimStart('-');
        int e = 0, at = s.IndexOf('E');
        if (at >= 0)
        {
            e = int.Parse(s[(at + 1)..], CultureInfo.InvariantCulture);
            s = s[..at];
        }

        int dot = s.IndexOf('.');
        var digits = dot < 0 ? s : s.Remove(dot, 1);
        int point = (dot < 0 ? s.Length : dot) + e - (digits.Length - digits.TrimStart('0').Length);
        digits = digits.Trim('0');
        if (digits.Length == 0)
        {
            return sign + "0.0";
        }

        int exponent = point - 1;
        if (exponent < -4 || exponent >= 16)
        {
            var mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            return $"{sign}{mantissa}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
        }

        return point <= 0 ? $"{sign}0.{new string('0', -point)}{digits}"
            : digits.Length <= point ? $"{sign}{digits}{new string('0', point - digits.Length)}.0"
            : $"{sign}{digits[..point]}.{digits[point..]}";
    }

    private static string StringRepr(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder().Append(quote);
        foreach (char c in s)
        {
            sb.Append(c switch
            {
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when c == quote => "\\" + c,
                _ when c < ' ' || c == '\x7f' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return sb.Append(quote).ToString();
    }

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new TemplateRuntimeException($"expected a number, got {TypeName(v)}"),
    };

    /// <summary>Python ==: numbers across int/float/bool, sequences and dicts element-wise; Undefined equals only Undefined.</summary>
    public static new bool Equals(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            return a is double || b is double ? ToDouble(a) == ToDouble(b) : ToLong(a) == ToLong(b);
        }

        return (a, b) switch
        {
            (null, null) or (Undefined, Undefined) => true,
            (string x, string y) => x == y,
            (object?[] x, object?[] y) => x.Length == y.Length && x.Zip(y).All(p => Equals(p.First, p.Second)),
            (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Equals(p.First, p.Second)),
            (OrderedDictionary<string, object?> x, OrderedDictionary<string, object?> y) =>
                x.Count == y.Count && x.All(p => y.TryGetValue(p.Key, out var o) && Equals(p.Value, o)),
            _ => ReferenceEquals(a, b),
        };
    }

    public static long ToLong(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new TemplateRuntimeException($"expected an integer, got {TypeName(v)}"),
    };

    /// <summary>Python's ordering for &lt; &gt; and sorting: numbers, strings (by code point), sequences lexicographically.</summary>
    public static int Compare(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            return ToDouble(a).CompareTo(ToDouble(b));
        }

        if (a is string x && b is string y)
        {
            return string.CompareOrdinal(x, y);
        }

        if (a is IList la && b is IList lb && a.GetType() == b.GetType())
        {
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                if (!Equals(la[i], lb[i]))
                {
                    return Compare(la[i], lb[i]);
                }
            }

            return la.Count.CompareTo(lb.Count);
        }

        throw new TemplateRuntimeException($"'<' is not supported between {TypeName(a)} and {TypeName(b)}");
    }

    public static long Length(object? v) => v switch
    {
        string s => Runes(s).Count,
        ICollection c => c.Count,
        Undefined => 0,
        Namespace n => n.Attributes.Count,
        _ => throw new TemplateRuntimeException($"object of type '{TypeName(v)}' has no len()"),
    };

    /// <summary>Iteration: sequences by item, dicts by key, strings by character, Undefined as empty.</summary>
    public static IReadOnlyList<object?> Items(object? v) => v switch
    {
        List<object?> list => list,
        object?[] tuple => tuple,
        OrderedDictionary<string, object?> d => d.Keys.Cast<object?>().ToList(),
        string s => Runes(s).Cast<object?>().ToList(),
        Undefined => [],
        _ => throw new TemplateRuntimeException($"'{TypeName(v)}' object is not iterable"),
    };

    public static bool Contains(object? container, object? item) => container switch
    {
        string s when item is string sub => s.Contains(sub, StringComparison.Ordinal),
        string => throw new TemplateRuntimeException($"'in <string>' requires string as left operand, not {TypeName(item)}"),
        OrderedDictionary<string, object?> d => item is string key && d.ContainsKey(key),
        _ => Items(container).Any(x => Equals(x, item)),
    };

    /// <summary>A string's characters as Python sees them (code points; a surrogate pair is one).</summary>
    public static List<string> Runes(string s)
    {
        var list = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            bool pair = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]);
            list.Add(pair ? s.Substring(i++, 2) : s[i].ToString());
        }

        return list;
    }
}
