using InferenceHost.Model.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Model.Quantization;

/// <summary>
/// A linear module's weight [out, in] stored quantized, row by row: the in-features of each output row are cut
/// into groups of <see cref="GroupSize"/> (the last one zero-padded), each with one float32 scale.
/// int8: <c>Data</c> [out, padded in] int8, w = q · scale, scale = absmax / 127 (symmetric, round to nearest).
/// nf4: <c>Data</c> [out, padded in / 2] uint8, two codes a byte (element 2j in the low nibble),
/// w = NF4[code] · absmax, the code the nearest NormalFloat to w / absmax. Owns its tensors.
/// </summary>
public sealed class QuantizedWeight : IDisposable
{
    public const int DefaultGroupSize = 64;

    private ProductJob? job;

    private QuantizedWeight(WeightQuantization format, long inFeatures, long outFeatures, int groupSize, Tensor data, Tensor scales)
    {
        Format = format;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        GroupSize = groupSize;
        Data = data;
        Scales = scales;
    }

    public WeightQuantization Format { get; }

    public long InFeatures { get; }

    public long OutFeatures { get; }

    public int GroupSize { get; }

    /// <summary>Codes: int8 [out, padded in] or uint8 [out, padded in / 2].</summary>
    public Tensor Data { get; }

    /// <summary>float32 [out, groups].</summary>
    public Tensor Scales { get; }

    public long PaddedIn => Scales.shape[1] * GroupSize;

    /// <summary>Resident bytes: codes plus scales.</summary>
    public long Bytes => (Data.NumberOfElements * Data.ElementSize) + (Scales.NumberOfElements * Scales.ElementSize);

    /// <summary>Group sizes the kernels take: a power of two from 32 to 128, so a vector of 32 never straddles two scales.</summary>
    public static bool IsValidGroupSize(int g) => g is 32 or 64 or 128;

    /// <summary>Quantizes <paramref name="weight"/> ([out, in], any floating dtype, any device) into <paramref name="format"/> on <paramref name="device"/>.</summary>
    public static QuantizedWeight Quantize(Tensor weight, WeightQuantization format, Device device, int groupSize = DefaultGroupSize)
    {
        if (format == WeightQuantization.None)
        {
            throw new ArgumentException("nothing to quantize for 'none'", nameof(format));
        }

        if (!IsValidGroupSize(groupSize))
        {
            throw new ArgumentException($"group size {groupSize} is not 32, 64 or 128", nameof(groupSize));
        }

        if (weight.dim() != 2)
        {
            throw new ArgumentException($"a linear weight is [out, in], got [{string.Join(", ", weight.shape)}]", nameof(weight));
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (outF, inF) = (weight.shape[0], weight.shape[1]);
        var groups = (inF + groupSize - 1) / groupSize;
        var w = weight.to(ScalarType.Float32, CPU);
        if (groups * groupSize != inF)
        {
            w = nn.functional.pad(w, [0, groups * groupSize - inF]); // zero tail: quantizes to code 0 / value 0
        }

        var blocks = w.view(outF, groups, groupSize); // [out, G, group]
        var absmax = blocks.abs().amax([2], keepdim: true); // [out, G, 1]
        if (!absmax.isfinite().all().item<bool>())
        {
            throw new ArgumentException("the weight has non-finite values");
        }

        Tensor data, scales;
        if (format == WeightQuantization.Int8)
        {
            var scale = absmax / 127.0; // [out, G, 1]
            var safe = scale.masked_fill(scale.eq(0), 1.0);
            data = (blocks / safe).round().clamp(-127, 127).to_type(ScalarType.Int8).view(outF, groups * groupSize);
            scales = scale.squeeze(2);
        }
        else
        {
            var safe = absmax.masked_fill(absmax.eq(0), 1.0);
            var normalized = (blocks / safe).view(outF, groups * groupSize); // [out, padded in] in [-1, 1]
            using var mids = tensor(Nf4.Midpoints);
            var codes = bucketize(normalized, mids, true, false).to_type(ScalarType.Byte).view(outF, groups * groupSize / 2, 2); // [out, in/2, 2]
            data = codes.select(2, 0).bitwise_or(codes.select(2, 1).bitwise_left_shift(4)).contiguous(); // [out, in/2]
            scales = absmax.squeeze(2);
        }

        var q = new QuantizedWeight(format, inF, outF, groupSize,
            data.to(device).contiguous().DetachFromDisposeScope(), scales.to(ScalarType.Float32, device).contiguous().DetachFromDisposeScope());
        return q;
    }

    /// <summary>The weight as [out, in] in <paramref name="dtype"/> on the storage's device (libtorch ops; the reference and the prefill path).</summary>
    public Tensor Dequantize(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var groups = Scales.shape[1];
        Tensor values; // [out, padded in] float32
        if (Format == WeightQuantization.Int8)
        {
            values = Data.to_type(ScalarType.Float32);
        }
        else
        {
            var low = Data.bitwise_and(15);
            var high = Data.bitwise_right_shift(4);
            var codes = stack([low, high], 2).view(OutFeatures, groups * GroupSize).to_type(ScalarType.Int64); // [out, padded in]
            using var table = tensor(Nf4.Table, device: Data.device);
            values = table.index_select(0, codes.flatten()).view(OutFeatures, groups * GroupSize);
        }

        var w = (values.view(OutFeatures, groups, GroupSize) * Scales.unsqueeze(2)).view(OutFeatures, groups * GroupSize); // [out, padded in]
        return w.narrow(1, 0, InFeatures).to_type(dtype).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The layout the kernels read.</summary>
    public KernelFormat KernelFormat => Format == WeightQuantization.Int8 ? KernelFormat.Int8 : KernelFormat.Nf4;

    /// <summary>The kernel's view of this weight (CPU only; the memory stays owned here and never moves, so it is taken once).</summary>
    internal unsafe ProductJob Job() => job ??= new ProductJob
    {
        Format = KernelFormat,
        W = (byte*)TensorMemory.Pointer(Data, Data.dtype),
        RowBytes = Data.shape[1],
        Scales = (float*)TensorMemory.Pointer(Scales, ScalarType.Float32),
        ScaleStride = (int)Scales.shape[1],
        GroupShift = System.Numerics.BitOperations.Log2((uint)GroupSize),
        In = (int)InFeatures,
        Out = (int)OutFeatures,
    };

    public void Dispose()
    {
        Data.Dispose();
        Scales.Dispose();
    }
}
