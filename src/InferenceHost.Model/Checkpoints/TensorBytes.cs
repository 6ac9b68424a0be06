using TorchSharp;

namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// Raw byte copies between memory and contiguous CPU tensors. TorchSharp exposes a tensor's storage only
/// as a <see cref="Span{T}"/> (int-sized), so tensors over 2 GiB go through in chunks of a flat view.
/// </summary>
internal static unsafe class TensorBytes
{
    public const long DefaultChunk = 1L << 30;

    /// <summary>Fills <paramref name="target"/> (contiguous, on the CPU) from <paramref name="count"/> bytes at <paramref name="source"/>.</summary>
    public static void CopyInto(torch.Tensor target, byte* source, long count, long chunk = DefaultChunk)
    {
        CheckTarget(target, count);
        if (count <= chunk)
        {
            new ReadOnlySpan<byte>(source, (int)count).CopyTo(target.bytes);
            return;
        }

        ForEachChunk(target, chunk, (part, offset, length) =>
            new ReadOnlySpan<byte>(source + offset, (int)length).CopyTo(part.bytes));
    }

    /// <summary>Writes the bytes of <paramref name="tensor"/> (contiguous, on the CPU) to <paramref name="stream"/>.</summary>
    public static void WriteTo(torch.Tensor tensor, Stream stream, long chunk = DefaultChunk)
    {
        var count = tensor.numel() * tensor.element_size();
        CheckTarget(tensor, count);
        if (count <= chunk)
        {
            stream.Write(tensor.bytes);
            return;
        }

        ForEachChunk(tensor, chunk, (part, _, _) => stream.Write(part.bytes));
    }

    private static void CheckTarget(torch.Tensor t, long count)
    {
        if (t.device_type != DeviceType.CPU || !t.is_contiguous())
        {
            throw new ArgumentException("raw byte copies need a contiguous CPU tensor");
        }

        if (t.numel() * t.element_size() != count)
        {
            throw new ArgumentException($"tensor holds {t.numel() * t.element_size()} bytes, not {count}");
        }
    }

    private static void ForEachChunk(torch.Tensor t, long chunk, Action<torch.Tensor, long, long> action)
    {
        var elementSize = t.element_size();
        var perChunk = Math.Max(1, chunk / elementSize);
        using var flat = t.view(-1);
        var total = flat.shape[0];
        for (long start = 0; start < total; start += perChunk)
        {
            var n = Math.Min(perChunk, total - start);
            using var part = flat.narrow(0, start, n);
            action(part, start * elementSize, n * elementSize);
        }
    }
}
