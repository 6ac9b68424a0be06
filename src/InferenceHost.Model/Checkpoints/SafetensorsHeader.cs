using System.Text.Json;

namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// Validates a safetensors JSON header against the data region it describes. Everything a malicious or
/// truncated file could lie about is checked here, before any byte of tensor data is touched.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The Rust library's limit; a real header for a 400B model is a few hundred kB.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    public static (Dictionary<string, TensorInfo> Tensors, Dictionary<string, string> Metadata) Parse(
        string file, ReadOnlyMemory<byte> json, long dataLength)
    {
        using var doc = StrictJson.Parse(file, json, "the safetensors header");
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(file, $"the safetensors header is a JSON {doc.RootElement.ValueKind}, not an object");
        }

        var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (entry.Name == MetadataKey)
            {
                ReadMetadata(file, entry.Value, metadata);
            }
            else
            {
                tensors.Add(entry.Name, ReadTensor(file, entry.Name, entry.Value, dataLength));
            }
        }

        CheckLayout(file, tensors.Values, dataLength);
        return (tensors, metadata);
    }

    private static void ReadMetadata(string file, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(file, $"{MetadataKey} is a JSON {value.ValueKind}, not an object of strings");
        }

        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointException(file, $"{MetadataKey} entry \"{item.Name}\" is a JSON {item.Value.ValueKind}, not a string");
            }

            metadata.Add(item.Name, item.Value.GetString()!);
        }
    }

    private static TensorInfo ReadTensor(string file, string name, JsonElement value, long dataLength)
    {
        string Bad(string problem) => $"tensor \"{name}\": {problem}";
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(file, Bad($"entry is a JSON {value.ValueKind}, not an object"));
        }

        JsonElement? dtypeEl = null, shapeEl = null, offsetsEl = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype": dtypeEl = field.Value; break;
                case "shape": shapeEl = field.Value; break;
                case "data_offsets": offsetsEl = field.Value; break;
                default: throw new CheckpointException(file, Bad($"unknown field \"{field.Name}\""));
            }
        }

        if (dtypeEl is not { ValueKind: JsonValueKind.String } d)
        {
            throw new CheckpointException(file, Bad("missing or non-string \"dtype\""));
        }

        var dtype = d.GetString()!;
        var size = SafetensorsDType.SizeOf(dtype)
            ?? throw new CheckpointException(file, Bad($"unknown dtype \"{dtype}\" (known: {string.Join(", ", SafetensorsDType.Names)})"));
        var shape = ReadInts(shapeEl, -1)
            ?? throw new CheckpointException(file, Bad("missing \"shape\" or not an array of non-negative integers"));
        var offsets = ReadInts(offsetsEl, 2)
            ?? throw new CheckpointException(file, Bad("missing \"data_offsets\" or not two non-negative integers [begin, end]"));
        var (begin, end) = (offsets[0], offsets[1]);
        if (begin > end)
        {
            throw new CheckpointException(file, Bad($"data_offsets [{begin}, {end}] end before they begin"));
        }

        if (end > dataLength)
        {
            throw new CheckpointException(file, Bad($"data_offsets [{begin}, {end}] run past the end of the data region ({dataLength} bytes; the file is truncated or the offsets are wrong)"));
        }

        long expected;
        try
        {
            expected = checked(shape.Aggregate(1L, (a, b) => a * b) * size);
        }
        catch (OverflowException)
        {
            throw new CheckpointException(file, Bad($"shape [{string.Join(", ", shape)}] is too large to address"));
        }

        if (expected != end - begin)
        {
            throw new CheckpointException(file, Bad(
                $"dtype {dtype} with shape [{string.Join(", ", shape)}] needs {expected} bytes but data_offsets [{begin}, {end}] hold {end - begin}"));
        }

        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /// <summary>An array of non-negative integers (of the given length, or any length when -1), or null.</summary>
    private static long[]? ReadInts(JsonElement? element, int length)
    {
        if (element is not { ValueKind: JsonValueKind.Array } array)
        {
            return null;
        }

        var result = new long[array.GetArrayLength()];
        if (length >= 0 && result.Length != length)
        {
            return null;
        }

        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var v) || v < 0)
            {
                return null;
            }

            result[i++] = v;
        }

        return result;
    }

    /// <summary>
    /// Tensors must tile the data region exactly, as the reference library demands: no two share a byte,
    /// no byte lies between them, and the last ends where the file ends.
    /// </summary>
    private static void CheckLayout(string file, IEnumerable<TensorInfo> tensors, long dataLength)
    {
        var sorted = tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
        long covered = 0;
        TensorInfo? previous = null;
        foreach (var t in sorted)
        {
            if (t.Begin < covered)
            {
                throw new CheckpointException(file,
                    $"tensors \"{previous!.Name}\" [{previous.Begin}, {previous.End}] and \"{t.Name}\" [{t.Begin}, {t.End}] overlap");
            }

            if (t.Begin > covered)
            {
                throw new CheckpointException(file,
                    $"bytes [{covered}, {t.Begin}) of the data region belong to no tensor (before \"{t.Name}\")");
            }

            covered = t.End;
            if (t.End > t.Begin || previous is null)
            {
                previous = t;
            }
        }

        if (covered != dataLength)
        {
            throw new CheckpointException(file,
                $"the tensors cover {covered} bytes but the data region holds {dataLength} (trailing bytes belong to no tensor)");
        }
    }
}
