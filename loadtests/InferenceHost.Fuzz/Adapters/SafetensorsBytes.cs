using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace InferenceHost.Fuzz.Adapters;

/// <summary>One tensor of a safetensors file: name, dtype, shape and its raw little-endian bytes.</summary>
public sealed record TensorEntry(string Name, string DType, long[] Shape, byte[] Data);

/// <summary>
/// Reads and writes safetensors files byte by byte, so the fuzzer can write what a correct writer never would:
/// lengths, offsets, dtypes and shapes that disagree with the data.
/// </summary>
public static class SafetensorsBytes
{
    public static List<TensorEntry> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = JsonNode.Parse(bytes.AsSpan(8, headerLength))!.AsObject();
        var dataStart = 8 + headerLength;
        return header.Where(kv => kv.Key != "__metadata__").Select(kv =>
        {
            var t = kv.Value!.AsObject();
            var offsets = t["data_offsets"]!.AsArray().Select(o => (int)o!).ToArray();
            return new TensorEntry(kv.Key, (string)t["dtype"]!, t["shape"]!.AsArray().Select(s => (long)s!).ToArray(),
                bytes[(dataStart + offsets[0])..(dataStart + offsets[1])]);
        }).ToList();
    }

    /// <summary>The file's bytes; <paramref name="edit"/> may change the header before it is written.</summary>
    public static byte[] Write(IEnumerable<TensorEntry> tensors, Action<JsonObject>? edit = null, ulong? headerLength = null)
    {
        var header = new JsonObject();
        var data = new MemoryStream();
        foreach (var t in tensors)
        {
            header[t.Name] = new JsonObject
            {
                ["dtype"] = t.DType,
                ["shape"] = new JsonArray(t.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(data.Length, data.Length + t.Data.Length),
            };
            data.Write(t.Data);
        }

        edit?.Invoke(header);
        return Frame(Encoding.UTF8.GetBytes(header.ToJsonString()), data.ToArray(), headerLength);
    }

    /// <summary>Length prefix + header text + data, the length as given (or the header's own).</summary>
    public static byte[] Frame(byte[] header, byte[] data, ulong? headerLength = null)
    {
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, headerLength ?? (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    /// <summary>Float32 values as little-endian bytes.</summary>
    public static byte[] F32(IEnumerable<float> values) => values.SelectMany(v => BitConverter.GetBytes(v)).ToArray();

    public static byte[] Fill(int count, float value) => F32(Enumerable.Repeat(value, count));
}
