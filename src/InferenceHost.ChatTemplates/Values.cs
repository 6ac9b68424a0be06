using System.Collections;
using System.Text.Json;

namespace InferenceHost.ChatTemplates;

// Template values are plain .NET objects with Python's meaning: null = None, bool, long (int), double (float),
// string, List<object?> (list), object?[] (tuple), OrderedDictionary<string, object?> (dict), and the types below.

/// <summary>Jinja's Undefined: renders as nothing, is false, iterates as empty; its attributes are errors.</summary>
internal sealed class Undefined(string description)
{
    /// <summary>What was looked up, for the error when it is used (<c>'x' is undefined</c>).</summary>
    public string Description { get; } = description;
}

/// <summary><c>namespace(...)</c>: the one mutable object, whose attributes <c>set ns.x = ...</c> changes from inside loops.</summary>
internal sealed class Namespace
{
    public OrderedDictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>Arguments of a call: positional, then by name.</summary>
internal sealed record CallArgs(IReadOnlyList<object?> Positional, IReadOnlyDictionary<string, object?> Named)
{
    public static CallArgs Empty { get; } = new([], new Dictionary<string, object?>());

    /// <summary>The argument at <paramref name="position"/> or named <paramref name="name"/>, else <paramref name="fallback"/>.</summary>
    public object? Get(int position, string name, object? fallback = null) =>
        position < Positional.Count ? Positional[position] : Named.TryGetValue(name, out var v) ? v : fallback;

    public bool Has(int position, string name) => position < Positional.Count || Named.ContainsKey(name);
}

/// <summary>A global function (<c>raise_exception</c>, <c>namespace</c>, ...) or a macro.</summary>
internal sealed class Function(string name, Func<CallArgs, object?> invoke)
{
    public string Name { get; } = name;

    public object? Invoke(CallArgs args) => invoke(args);
}

/// <summary>The <c>loop</c> variable of a for loop.</summary>
internal sealed class LoopInfo(IReadOnlyList<object?> items)
{
    public int Index0 { get; set; }

    public object? Get(string name) => name switch
    {
        "index0" => (long)Index0,
        "index" => (long)Index0 + 1,
        "revindex" => (long)(items.Count - Index0),
        "revindex0" => (long)(items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 + 1 < items.Count ? items[Index0 + 1] : new Undefined("there is no next item"),
        _ => new Undefined($"'loop' has no attribute '{name}'"),
    };

    public object? Cycle(CallArgs args) =>
        args.Positional.Count == 0 ? throw new TemplateRuntimeException("loop.cycle needs at least one value") : args.Positional[Index0 % args.Positional.Count];
}

/// <summary>Converts caller values (CLR primitives, lists, dictionaries, <see cref="JsonElement"/>) into template values.</summary>
internal static class Import
{
    public static object? Value(object? v) => v switch
    {
        null or bool or long or double or string or Undefined or Namespace or Function => v,
        int i => (long)i,
        float f => (double)f,
        decimal m => (double)m,
        JsonElement e => Json(e),
        IDictionary d => Dict(d.Keys.Cast<object>().Select(k => (Convert.ToString(k, System.Globalization.CultureInfo.InvariantCulture)!, d[k]))),
        IEnumerable<KeyValuePair<string, object?>> pairs => Dict(pairs.Select(p => (p.Key, p.Value))),
        IEnumerable items => items.Cast<object?>().Select(Value).ToList(),
        _ => throw new ArgumentException($"a template variable cannot hold a {v.GetType().Name}"),
    };

    private static OrderedDictionary<string, object?> Dict(IEnumerable<(string Key, object? Value)> pairs)
    {
        var d = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in pairs)
        {
            d[k] = Value(v);
        }

        return d;
    }

    public static object? Json(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => e.EnumerateArray().Select(Json).ToList(),
        JsonValueKind.Object => Dict(e.EnumerateObject().Select(p => (p.Name, (object?)Json(p.Value)))),
        _ => null,
    };
}
