using System.Text.Json;

namespace InferenceHost.Gateway.Routing;

/// <summary>What a generation request names: its <c>model</c> and the names in its <c>adapters</c> extension.</summary>
public sealed record RequestedModel(string? Model, IReadOnlyList<string> Adapters)
{
    /// <summary>Reads the two fields from a JSON body; null when the body is not a JSON object (the replica will say why).</summary>
    public static RequestedModel? Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var root = doc.RootElement;
            var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            var adapters = root.TryGetProperty("adapters", out var a) && a.ValueKind == JsonValueKind.Array
                ? a.EnumerateArray()
                    .Where(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
                    .Select(e => e.GetProperty("name").GetString()!).ToArray()
                : [];
            return new RequestedModel(model, adapters);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The adapter combination as one routing key: the adapter named as <c>model</c> (unless it is a base
    /// model) plus the <c>adapters</c> names, distinct and sorted, joined by '+'; null for the base model alone.
    /// </summary>
    public string? Key(IReadOnlyCollection<string> baseModels)
    {
        var names = new SortedSet<string>(Adapters, StringComparer.Ordinal);
        if (Model is { Length: > 0 } m && !baseModels.Contains(m))
        {
            names.Add(m);
        }

        return names.Count == 0 ? null : string.Join('+', names);
    }
}
