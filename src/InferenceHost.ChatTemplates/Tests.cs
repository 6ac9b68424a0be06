namespace InferenceHost.ChatTemplates;

/// <summary>Jinja's tests (<c>x is defined</c>, <c>x is string</c>, ...); the comparison tests also serve selectattr/rejectattr.</summary>
internal static class Tests
{
    private static readonly Dictionary<string, Func<object?, CallArgs, bool>> All = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, _) => v is not Undefined,
        ["undefined"] = (v, _) => v is Undefined,
        ["none"] = (v, _) => v is null,
        ["boolean"] = (v, _) => v is bool,
        ["true"] = (v, _) => v is true,
        ["false"] = (v, _) => v is false,
        ["integer"] = (v, _) => v is long,
        ["float"] = (v, _) => v is double,
        ["number"] = (v, _) => Py.IsNumber(v),
        ["string"] = (v, _) => v is string,
        ["mapping"] = (v, _) => v is OrderedDictionary<string, object?>,
        ["iterable"] = (v, _) => v is string or Undefined or List<object?> or object?[] or OrderedDictionary<string, object?>,
        ["sequence"] = (v, _) => v is string or Undefined or List<object?> or object?[] or OrderedDictionary<string, object?>,
        ["callable"] = (v, _) => v is Function,
        ["odd"] = (v, _) => Py.ToLong(v) % 2 != 0,
        ["even"] = (v, _) => Py.ToLong(v) % 2 == 0,
        ["divisibleby"] = (v, a) => Py.ToLong(a.Get(0, "num")) is var n && n != 0 && Py.ToLong(v) % n == 0,
        ["lower"] = (v, _) => Py.Str(v) is var s && s.Any(char.IsLetter) && s == s.ToLowerInvariant(),
        ["upper"] = (v, _) => Py.Str(v) is var s && s.Any(char.IsLetter) && s == s.ToUpperInvariant(),
        ["in"] = (v, a) => Py.Contains(a.Get(0, "seq"), v),
        ["sameas"] = (v, a) => a.Get(0, "other") is var o && (ReferenceEquals(v, o) || (v is null or bool && Equals(v, o))),
        ["eq"] = Compare("=="),
        ["equalto"] = Compare("=="),
        ["=="] = Compare("=="),
        ["ne"] = Compare("!="),
        ["!="] = Compare("!="),
        ["lt"] = Compare("<"),
        ["lessthan"] = Compare("<"),
        ["<"] = Compare("<"),
        ["le"] = Compare("<="),
        ["<="] = Compare("<="),
        ["gt"] = Compare(">"),
        ["greaterthan"] = Compare(">"),
        [">"] = Compare(">"),
        ["ge"] = Compare(">="),
        [">="] = Compare(">="),
    };

    public static IReadOnlySet<string> Names { get; } = All.Keys.ToHashSet(StringComparer.Ordinal);

    public static bool Apply(string name, object? value, CallArgs args) => All.TryGetValue(name, out var test)
        ? test(value, args)
        : throw new TemplateRuntimeException($"no test named '{name}'");

    private static Func<object?, CallArgs, bool> Compare(string op) => (v, a) => Operators.Compare(op, v, a.Get(0, "other"));
}
