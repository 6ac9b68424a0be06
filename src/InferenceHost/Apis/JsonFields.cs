using System.Text.Json;

namespace InferenceHost.Apis;

/// <summary>Typed reads of a request object; every type or range error names the field (400).</summary>
public readonly struct JsonFields(JsonElement obj)
{
    public JsonElement Root => obj;

    public bool Has(string name) => obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    public JsonElement? Get(string name) => obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string? String(string name, bool required = false)
    {
        if (Get(name) is not { } v)
        {
            return required ? throw Missing(name) : null;
        }

        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Type(name, "a string");
    }

    public bool Bool(string name, bool fallback = false) => Get(name) switch
    {
        null => fallback,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw Type(name, "a boolean"),
    };

    public long? Long(string name, long min = long.MinValue, long max = long.MaxValue)
    {
        if (Get(name) is not { } v)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var x))
        {
            throw Type(name, "an integer");
        }

        return x < min || x > max
            ? throw ApiException.BadRequest($"'{name}' must be between {min} and {max} (got {x})", name)
            : x;
    }

    public int? Int(string name, int min = int.MinValue, int max = int.MaxValue) => (int?)Long(name, min, max);

    public double? Double(string name, double min, double max)
    {
        if (Get(name) is not { } v)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var x) || !double.IsFinite(x))
        {
            throw Type(name, "a number");
        }

        return x < min || x > max
            ? throw ApiException.BadRequest($"'{name}' must be between {min} and {max} (got {x})", name)
            : x;
    }

    /// <summary>A string or a list of strings (e.g. <c>stop</c>).</summary>
    public IReadOnlyList<string> Strings(string name)
    {
        switch (Get(name))
        {
            case null:
                return [];
            case { ValueKind: JsonValueKind.String } s:
                return [s.GetString()!];
            case { ValueKind: JsonValueKind.Array } a:
                return a.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Type(name, "a string or a list of strings")).ToArray();
            default:
                throw Type(name, "a string or a list of strings");
        }
    }

    public JsonFields Object(string name) => Get(name) switch
    {
        null => new JsonFields(default),
        { ValueKind: JsonValueKind.Object } o => new JsonFields(o),
        _ => throw Type(name, "an object"),
    };

    public static ApiException Type(string name, string what) => ApiException.BadRequest($"'{name}' must be {what}", name, "invalid_type");

    public static ApiException Missing(string name) => ApiException.BadRequest($"'{name}' is required", name, "missing_required_parameter");
}
