using System.Text;

namespace InferenceHost.ChatTemplates;

/// <summary>The Python methods templates call on strings (<c>strip</c>, <c>split</c>, ...), dicts (<c>items</c>, <c>get</c>) and <c>loop.cycle</c>.</summary>
internal static class Methods
{
    private static readonly Dictionary<string, Func<string, CallArgs, object?>> StringMethods = new(StringComparer.Ordinal)
    {
        ["strip"] = (s, a) => Strip(s, a, start: true, end: true),
        ["lstrip"] = (s, a) => Strip(s, a, start: true, end: false),
        ["rstrip"] = (s, a) => Strip(s, a, start: false, end: true),
        ["split"] = (s, a) => Split(s, a.Get(0, "sep") as string, (int)Py.ToLong(a.Get(1, "maxsplit", -1L)), fromEnd: false),
        ["rsplit"] = (s, a) => Split(s, a.Get(0, "sep") as string, (int)Py.ToLong(a.Get(1, "maxsplit", -1L)), fromEnd: true),
        ["splitlines"] = (s, _) => SplitLines(s).Cast<object?>().ToList(),
        ["startswith"] = (s, a) => Affixes(a.Get(0, "prefix")).Any(p => s.StartsWith(p, StringComparison.Ordinal)),
        ["endswith"] = (s, a) => Affixes(a.Get(0, "suffix")).Any(p => s.EndsWith(p, StringComparison.Ordinal)),
        ["upper"] = (s, _) => s.ToUpperInvariant(),
        ["lower"] = (s, _) => s.ToLowerInvariant(),
        ["capitalize"] = (s, _) => Capitalize(s),
        ["title"] = (s, _) => Title(s),
        ["replace"] = (s, a) => Replace(s, Py.Str(a.Get(0, "old")), Py.Str(a.Get(1, "new")), Py.ToLong(a.Get(2, "count", -1L))),
        ["find"] = (s, a) => (long)s.IndexOf(Py.Str(a.Get(0, "sub")), StringComparison.Ordinal),
        ["count"] = (s, a) => Py.Str(a.Get(0, "sub")) is { Length: > 0 } sub ? (long)((s.Length - s.Replace(sub, string.Empty, StringComparison.Ordinal).Length) / sub.Length) : s.Length + 1L,
        ["join"] = (s, a) => string.Join(s, Py.Items(a.Get(0, "iterable")).Select(x => x as string
            ?? throw new TemplateRuntimeException($"sequence item: expected str instance, {Py.TypeName(x)} found"))),
        ["isdigit"] = (s, _) => s.Length > 0 && s.All(char.IsDigit),
        ["isspace"] = (s, _) => s.Length > 0 && s.All(char.IsWhiteSpace),
    };

    private static readonly Dictionary<string, Func<OrderedDictionary<string, object?>, CallArgs, object?>> DictMethods = new(StringComparer.Ordinal)
    {
        ["items"] = (d, _) => d.Select(p => (object?)new object?[] { p.Key, p.Value }).ToList(),
        ["keys"] = (d, _) => d.Keys.Cast<object?>().ToList(),
        ["values"] = (d, _) => d.Values.ToList(),
        ["get"] = (d, a) => d.TryGetValue(Py.Str(a.Get(0, "key")), out var v) ? v : a.Get(1, "default"),
    };

    public static IReadOnlySet<string> Names { get; } = StringMethods.Keys.Concat(DictMethods.Keys).Append("cycle").ToHashSet(StringComparer.Ordinal);

    public static object? Call(object? target, string name, CallArgs args) => target switch
    {
        string s when StringMethods.TryGetValue(name, out var m) => m(s, args),
        OrderedDictionary<string, object?> d when DictMethods.TryGetValue(name, out var m) => m(d, args),
        LoopInfo loop when name == "cycle" => loop.Cycle(args),
        _ => throw new TemplateRuntimeException($"'{Py.TypeName(target)} object' has no method '{name}'"),
    };

    private static string Strip(string s, CallArgs a, bool start, bool end)
    {
        var chars = a.Get(0, "chars") is string c ? c.ToCharArray() : null;
        return (start, end) switch
        {
            (true, true) => chars is null ? s.Trim() : s.Trim(chars),
            (true, false) => chars is null ? s.TrimStart() : s.TrimStart(chars),
            _ => chars is null ? s.TrimEnd() : s.TrimEnd(chars),
        };
    }

    // Python's str.split/rsplit: no separator splits on runs of whitespace and drops empty ends; maxsplit
    // limits the splits, the unsplit rest keeping its text.
    private static List<object?> Split(string s, string? sep, int maxSplit, bool fromEnd)
    {
        if (sep == string.Empty)
        {
            throw new TemplateRuntimeException("empty separator");
        }

        var parts = new List<string>();
        var text = fromEnd ? new string(s.Reverse().ToArray()) : s;
        var separator = sep is null || !fromEnd ? sep : new string(sep.Reverse().ToArray());
        int i = 0;
        while (true)
        {
            if (separator is null)
            {
                while (i < text.Length && char.IsWhiteSpace(text[i]))
                {
                    i++;
                }

                if (i >= text.Length)
                {
                    break;
                }
            }

            if (maxSplit >= 0 && parts.Count == maxSplit)
            {
                parts.Add(text[i..]);
                break;
            }

            int j = separator is null ? i : text.IndexOf(separator, i, StringComparison.Ordinal);
            while (separator is null && j < text.Length && !char.IsWhiteSpace(text[j]))
            {
                j++;
            }

            if (j < 0)
            {
                parts.Add(text[i..]);
                break;
            }

            parts.Add(text[i..j]);
            i = j + (separator?.Length ?? 0);
        }

        if (fromEnd)
        {
            parts = parts.Select(p => new string(p.Reverse().ToArray())).Reverse().ToList();
        }

        return parts.Cast<object?>().ToList();
    }

    public static List<string> SplitLines(string s)
    {
        var lines = s.Replace("\r\n", "\n").Split('\n', '\r').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
    }

    private static IEnumerable<string> Affixes(object? v) => v switch
    {
        string s => [s],
        IReadOnlyList<object?> options => options.Select(Py.Str),
        _ => throw new TemplateRuntimeException($"startswith/endswith need a string or a tuple, not {Py.TypeName(v)}"),
    };

    public static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    // Python's str.title: a letter after a non-letter is upper-cased, every other letter lower-cased.
    private static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousIsLetter = false;
        foreach (char c in s)
        {
            sb.Append(char.IsLetter(c) ? previousIsLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c) : c);
            previousIsLetter = char.IsLetter(c);
        }

        return sb.ToString();
    }

    private static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0)
        {
            return old.Length == 0 ? string.Concat(Py.Runes(s).Select(r => replacement + r)) + replacement : s.Replace(old, replacement, StringComparison.Ordinal);
        }

        var sb = new StringBuilder();
        int at = 0;
        for (long n = 0; n < count && old.Length > 0; n++)
        {
            int next = s.IndexOf(old, at, StringComparison.Ordinal);
            if (next < 0)
            {
                break;
            }

            sb.Append(s, at, next - at).Append(replacement);
            at = next + old.Length;
        }

        return sb.Append(s, at, s.Length - at).ToString();
    }
}
