using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace InferenceHost.Fuzz.Cases;

/// <summary>
/// A JSON body that may hold what a JSON writer never writes: number literals such as <c>1e999</c>, <c>NaN</c>,
/// escapes of lone surrogates, raw bytes that are not UTF-8, duplicate keys. Each is put in as a placeholder
/// string and spliced into the serialized text.
/// </summary>
public sealed class RawBody(JsonObject root)
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly List<byte[]> _raws = [];
    private string _prefix = string.Empty;

    public JsonObject Root { get; } = root;

    /// <summary>Sets <paramref name="key"/> of <paramref name="parent"/> (default the root) to raw JSON text.</summary>
    public RawBody Set(string key, string rawJson, JsonObject? parent = null) => SetBytes(key, Encoding.UTF8.GetBytes(rawJson), parent);

    public RawBody SetBytes(string key, byte[] raw, JsonObject? parent = null)
    {
        (parent ?? Root)[key] = Mark(raw);
        return this;
    }

    /// <summary>A placeholder node for raw bytes, to put anywhere in the tree.</summary>
    public JsonNode Mark(byte[] raw)
    {
        _raws.Add(raw);
        return JsonValue.Create($"@@RAW{_raws.Count - 1}@@");
    }

    public JsonNode Mark(string rawJson) => Mark(Encoding.UTF8.GetBytes(rawJson));

    /// <summary>Raw members written right after the opening brace (duplicate keys, say).</summary>
    public RawBody Prefix(string rawMembers)
    {
        _prefix += rawMembers + ",";
        return this;
    }

    public byte[] Bytes()
    {
        var text = Root.ToJsonString(Relaxed);
        if (_prefix.Length > 0)
        {
            text = text == "{}" ? "{" + _prefix.TrimEnd(',') + "}" : "{" + _prefix + text[1..];
        }

        // Markers in the order they appear in the text (a later mutation may have replaced an earlier one's node).
        var found = Enumerable.Range(0, _raws.Count)
            .Select(i => (Index: i, Marker: $"\"@@RAW{i}@@\"", At: text.IndexOf($"\"@@RAW{i}@@\"", StringComparison.Ordinal)))
            .Where(m => m.At >= 0).OrderBy(m => m.At);
        var output = new List<byte>(text.Length + 64);
        var pos = 0;
        foreach (var (index, marker, at) in found)
        {
            output.AddRange(Encoding.UTF8.GetBytes(text[pos..at]));
            output.AddRange(_raws[index]);
            pos = at + marker.Length;
        }

        output.AddRange(Encoding.UTF8.GetBytes(text[pos..]));
        return output.ToArray();
    }
}
