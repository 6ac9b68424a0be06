using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;

namespace InferenceHost.Model.Checkpoints;

/// <summary>A tensor to be written: its name, safetensors dtype name and shape.</summary>
public sealed record TensorHeader(string Name, string DType, long[] Shape);

/// <summary>
/// Writes safetensors files the way the Python library does: tensors ordered by dtype (widest first) then
/// by name, <c>__metadata__</c> first in the header, the header padded with spaces to a multiple of 8.
/// Files are written to a temporary file beside the target and renamed over it, so a reader never sees
/// a half-written checkpoint.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Writes in-memory tensors (any device and layout; they are copied to the CPU one at a time).</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var byName = new Dictionary<string, torch.Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (!byName.TryAdd(name, tensor))
            {
                throw new ArgumentException($"tensor \"{name}\" is given twice", nameof(tensors));
            }
        }

        var headers = byName.Select(kv => new TensorHeader(kv.Key, SafetensorsDType.FromScalarType(kv.Value.dtype), kv.Value.shape));
        Write(path, headers, (header, stream) =>
        {
            using var scope = torch.NewDisposeScope();
            var cpu = byName[header.Name].detach().cpu().contiguous();
            TensorBytes.WriteTo(cpu, stream);
        }, metadata);
    }

    /// <summary>
    /// Streaming form: <paramref name="writeData"/> is called once per tensor, in file order, and must write
    /// exactly that tensor's bytes (little-endian) to the stream it is given.
    /// </summary>
    public static void Write(string path, IEnumerable<TensorHeader> headers, Action<TensorHeader, Stream> writeData,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ordered = Order(headers);
        var headerBytes = SerializeHeader(ordered, metadata, out var offsets);
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        var temp = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerBytes.Length);
                file.Write(length);
                file.Write(headerBytes);
                for (var i = 0; i < ordered.Count; i++)
                {
                    var expected = offsets[i].End - offsets[i].Begin;
                    using var counted = new BoundedStream(file, expected, ordered[i].Name);
                    writeData(ordered[i], counted);
                    if (counted.Written != expected)
                    {
                        throw new InvalidOperationException(
                            $"tensor \"{ordered[i].Name}\" needs {expected} bytes but {counted.Written} were written");
                    }
                }

                file.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static List<TensorHeader> Order(IEnumerable<TensorHeader> headers)
    {
        var list = headers.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var h in list)
        {
            if (h.Name == SafetensorsHeader.MetadataKey || !names.Add(h.Name))
            {
                throw new ArgumentException($"tensor name \"{h.Name}\" is reserved or given twice", nameof(headers));
            }

            if (SafetensorsDType.SizeOf(h.DType) is null)
            {
                throw new ArgumentException($"tensor \"{h.Name}\": unknown dtype \"{h.DType}\"", nameof(headers));
            }

            if (h.Shape.Any(d => d < 0))
            {
                throw new ArgumentException($"tensor \"{h.Name}\": negative dimension", nameof(headers));
            }
        }

        return list
            .OrderByDescending(h => SafetensorsDType.Rank(h.DType))
            .ThenBy(h => h.Name, StringComparer.Ordinal)
            .ToList();
    }

    private static byte[] SerializeHeader(List<TensorHeader> ordered, IReadOnlyDictionary<string, string>? metadata,
        out (long Begin, long End)[] offsets)
    {
        offsets = new (long, long)[ordered.Count];
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            long position = 0;
            for (var i = 0; i < ordered.Count; i++)
            {
                var h = ordered[i];
                var size = checked(h.Shape.Aggregate(1L, (a, b) => a * b) * SafetensorsDType.SizeOf(h.DType)!.Value);
                offsets[i] = (position, position + size);
                json.WriteStartObject(h.Name);
                json.WriteString("dtype", h.DType);
                json.WriteStartArray("shape");
                foreach (var d in h.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(position);
                json.WriteNumberValue(position + size);
                json.WriteEndArray();
                json.WriteEndObject();
                position += size;
            }

            json.WriteEndObject();
        }

        // Pad with spaces so the data region starts 8-byte aligned, as the reference writer does.
        var padding = (int)((8 - buffer.Length % 8) % 8);
        for (var i = 0; i < padding; i++)
        {
            buffer.WriteByte((byte)' ');
        }

        return buffer.ToArray();
    }

    /// <summary>Passes writes through, counting them, and refuses to write past one tensor's bytes.</summary>
    private sealed class BoundedStream(Stream inner, long limit, string name) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Written + buffer.Length > limit)
            {
                throw new InvalidOperationException($"tensor \"{name}\" is {limit} bytes; the writer tried to write more");
            }

            inner.Write(buffer);
            Written += buffer.Length;
        }

        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
