using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace InferenceHost.ChatTemplates;

/// <summary>The Jinja filters chat templates use, with Jinja's semantics (tojson is Hugging Face's override).</summary>
internal static partial class Filters
{
    private delegate object? Filter(object? value, CallArgs args, Renderer renderer);

    private static readonly Dictionary<string, Filter> All = new(StringComparer.Ordinal)
    {
        ["abs"] = (v, _, _) => v is double d ? Math.Abs(d) : (object)Math.Abs(Py.ToLong(v)),
        ["capitalize"] = (v, _, _) => Methods.Capitalize(Py.Str(v)),
        ["count"] = (v, _, _) => Py.Length(v),
        ["default"] = Default,
        ["d"] = Default,
        ["first"] = (v, _, _) => Py.Items(v) is { Count: > 0 } items ? items[0] : new Undefined("the sequence is empty"),
        ["float"] = (v, a, _) => ToFloat(v, a.Get(0, "default", 0.0)),
        ["indent"] = Indent,
        ["int"] = (v, a, _) => ToInt(v, a.Get(0, "default", 0L)),
        ["items"] = (v, _, _) => v is Undefined ? new List<object?>() : Methods.Call(v, "items", CallArgs.Empty),
        ["join"] = (v, a, _) => string.Join(Py.Str(a.Get(0, "d", string.Empty)), Attribute(v, a.Get(1, "attribute")).Select(Py.Str)),
        ["last"] = (v, _, _) => Py.Items(v) is { Count: > 0 } items ? items[^1] : new Undefined("the sequence is empty"),
        ["length"] = (v, _, _) => Py.Length(v),
        ["list"] = (v, _, _) => Py.Items(v).ToList(),
        ["lower"] = (v, _, _) => Py.Str(v).ToLowerInvariant(),
        ["map"] = Map,
        ["reject"] = (v, a, r) => Select(v, a, r, attribute: false, keep: false),
        ["rejectattr"] = (v, a, r) => Select(v, a, r, attribute: true, keep: false),
        ["replace"] = (v, a, _) => Methods.Call(Py.Str(v), "replace", a),
        ["reverse"] = (v, _, _) => v is string s ? string.Concat(Py.Runes(s).AsEnumerable().Reverse()) : Py.Items(v).Reverse().ToList(),
        ["safe"] = (v, _, _) => v,
        ["select"] = (v, a, r) => Select(v, a, r, attribute: false, keep: true),
        ["selectattr"] = (v, a, r) => Select(v, a, r, attribute: true, keep: true),
        ["sort"] = Sort,
        ["string"] = (v, _, _) => Py.Str(v),
        ["title"] = (v, _, _) => string.Concat(WordStart().Split(Py.Str(v)).Where(w => w.Length > 0)
            .Select(w => char.ToUpperInvariant(w[0]) + w[1..].ToLowerInvariant())),
        ["tojson"] = ToJson,
        ["trim"] = (v, a, _) => Methods.Call(Py.Str(v), "strip", new CallArgs([a.Get(0, "chars")], new Dictionary<string, object?>())),
        ["unique"] = Unique,
        ["upper"] = (v, _, _) => Py.Str(v).ToUpperInvariant(),
    };

    public static IReadOnlySet<string> Names { get; } = All.Keys.ToHashSet(StringComparer.Ordinal);

    public static object? Apply(string name, object? value, CallArgs args, Renderer renderer) => All[name](value, args, renderer);

    [GeneratedRegex(@"([-\s({\[<]+)")]
    private static partial Regex WordStart();

    private static object? Default(object? v, CallArgs a, Renderer _) =>
        v is Undefined || (Py.Truthy(a.Get(1, "boolean", false)) && !Py.Truthy(v)) ? a.Get(0, "default_value", string.Empty) : v;

    // Hugging Face's tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
    private static object? ToJson(object? v, CallArgs a, Renderer _)
    {
        var indent = a.Get(1, "indent") switch
        {
            null => (string?)null,
            long n => new string(' ', (int)n),
            string s => s,
            var x => throw new TemplateRuntimeException($"tojson: indent must be an integer or a string, not {Py.TypeName(x)}"),
        };
        var separators = a.Get(2, "separators") is IReadOnlyList<object?> { Count: 2 } sep ? (Py.Str(sep[0]), Py.Str(sep[1])) : ((string, string)?)null;
        return PyJson.Dumps(v, indent, separators, Py.Truthy(a.Get(3, "sort_keys", false)), Py.Truthy(a.Get(0, "ensure_ascii", false)));
    }

    private static object? Indent(object? v, CallArgs a, Renderer _)
    {
        var width = a.Get(0, "width", 4L);
        var pad = width is string s ? s : new string(' ', (int)Math.Clamp(Py.ToLong(width), 0, 1000));
        bool first = Py.Truthy(a.Get(1, "first", false)), blank = Py.Truthy(a.Get(2, "blank", false));
        var lines = Methods.SplitLines(Py.Str(v) + "\n");
        var sb = new StringBuilder(lines.Count > 0 ? lines[0] : string.Empty);
        foreach (var line in lines.Skip(1))
        {
            sb.Append('\n').Append(line.Length > 0 || blank ? pad + line : line);
        }

        return (first ? pad : string.Empty) + sb;
    }

    private static IEnumerable<object?> Attribute(object? v, object? attribute) =>
        attribute is null ? Py.Items(v) : Py.Items(v).Select(item => Lookup(item, attribute));

    // attribute="a.b" follows dots; integer parts index lists, as Jinja's make_attrgetter does.
    private static object? Lookup(object? item, object? attribute)
    {
        foreach (var part in Py.Str(attribute).Split('.'))
        {
            item = long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? Renderer.GetItem(item, i) : Renderer.GetItem(item, part);
        }

        return item;
    }

    private static object? Map(object? v, CallArgs a, Renderer r)
    {
        if (a.Named.TryGetValue("attribute", out var attribute))
        {
            var fallback = a.Named.GetValueOrDefault("default");
            return Attribute(v, attribute).Select(x => x is Undefined && a.Named.ContainsKey("default") ? fallback : x).ToList();
        }

        var filter = a.Positional.Count > 0 ? Py.Str(a.Positional[0]) : throw new TemplateRuntimeException("map needs a filter name or attribute=");
        var rest = new CallArgs(a.Positional.Skip(1).ToList(), a.Named);
        return All.TryGetValue(filter, out var f)
            ? Py.Items(v).Select(x => f(x, rest, r)).ToList()
            : throw new TemplateRuntimeException($"map: no filter named '{filter}'");
    }

    // select/reject(test, args...) and selectattr/rejectattr(attribute, test, args...); no test means truthiness.
    private static List<object?> Select(object? v, CallArgs a, Renderer r, bool attribute, bool keep)
    {
        int skip = attribute ? 1 : 0;
        var test = a.Positional.Count > skip ? Py.Str(a.Positional[skip]) : null;
        var testArgs = new CallArgs(a.Positional.Skip(skip + 1).ToList(), new Dictionary<string, object?>());
        return Py.Items(v).Where(item =>
        {
            var x = attribute ? Lookup(item, a.Get(0, "attribute")) : item;
            return (test is null ? Py.Truthy(x) : Tests.Apply(test, x, testArgs)) == keep;
        }).ToList();
    }

    private static object? Sort(object? v, CallArgs a, Renderer _)
    {
        bool reverse = Py.Truthy(a.Get(0, "reverse", false)), caseSensitive = Py.Truthy(a.Get(1, "case_sensitive", false));
        var attribute = a.Get(2, "attribute");
        object? Key(object? x) => attribute is null ? Fold(x, caseSensitive) : Fold(Lookup(x, attribute), caseSensitive);
        var sorted = Py.Items(v).Order(Comparer<object?>.Create((x, y) => Py.Compare(Key(x), Key(y)))).ToList();
        if (reverse)
        {
            sorted.Reverse();
        }

        return sorted;
    }

    private static object? Fold(object? x, bool caseSensitive) => !caseSensitive && x is string s ? s.ToLowerInvariant() : x;

    private static object? Unique(object? v, CallArgs a, Renderer _)
    {
        bool caseSensitive = Py.Truthy(a.Get(0, "case_sensitive", false));
        var attribute = a.Get(1, "attribute");
        var seen = new List<object?>();
        var result = new List<object?>();
        foreach (var item in Py.Items(v))
        {
            var key = Fold(attribute is null ? item : Lookup(item, attribute), caseSensitive);
            if (!seen.Any(s => Py.Equals(s, key)))
            {
                seen.Add(key);
                result.Add(item);
            }
        }

        return result;
    }

    private static object? ToInt(object? v, object? fallback) => v switch
    {
        long or bool => Py.ToLong(v),
        double d => double.IsFinite(d) ? (long)Math.Truncate(d) : fallback,
        string s when long.TryParse(s.Trim().Replace("_", string.Empty), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => (long)Math.Truncate(d),
        _ => fallback,
    };

    private static object? ToFloat(object? v, object? fallback) => v switch
    {
        long or bool or double => Py.ToDouble(v),
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => fallback,
    };
}
