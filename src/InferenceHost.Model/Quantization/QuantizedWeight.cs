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
        var w = weight.to(ScalarType.Float32, CPU).contiguous(); // [out, in]
        if (!w.isfinite().all().item<bool>())
        {
            throw new ArgumentException("the weight has non-finite values");
        }

        var int8 = format == WeightQuantization.Int8;
        var padded = groups * groupSize;
        var data = empty(outF, int8 ? padded : padded / 2, dtype: int8 ? ScalarType.Int8 : ScalarType.Byte);
        var scales = empty(outF, groups, dtype: ScalarType.Float32);
        unsafe
        {
            var src = (float*)Kernels.TensorMemory.Pointer(w, ScalarType.Float32);
            var dst = (byte*)Kernels.TensorMemory.Pointer(data, data.dtype);
            var sc = (float*)Kernels.TensorMemory.Pointer(scales, ScalarType.Float32);
            var (n, g, rowBytes) = ((int)inF, groupSize, data.shape[1]);
            Parallel.For(0, (int)outF, o => QuantizeRow(int8, src + ((long)o * n), n, g, dst + (o * rowBytes), sc + ((long)o * groups)));
        }

        return new QuantizedWeight(format, inF, outF, groupSize,
            data.to(device).contiguous().DetachFromDisposeScope(), scales.to(device).contiguous().DetachFromDisposeScope());
    }

    /// <summary>
    /// One row, group by group: int8 q = round-half-even(w / (absmax / 127)); NF4 the code whose value is nearest to
    /// w / absmax (a value on a midpoint takes the lower code). The padding past <paramref name="n"/> is code 0 (int8)
    /// or the code of 0.0 (NF4, 7), so it decodes to zero. An all-zero group gets scale 0 and decodes to zero.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void QuantizeRow(bool int8, float* w, int n, int g, byte* dst, float* scales)
    {
        var groups = (n + g - 1) / g;
        var mids = Nf4.Midpoints;
        for (var k = 0; k < groups; k++)
        {
            var (start, end) = (k * g, Math.Min(n, (k + 1) * g));
            var absmax = 0f;
            for (var i = start; i < end; i++)
            {
                absmax = MathF.Max(absmax, MathF.Abs(w[i]));
            }

            var scale = int8 ? absmax / 127f : absmax;
            scales[k] = scale;
            var divisor = scale == 0 ? 1f : scale;
            for (var i = start; i < (k + 1) * g; i++)
            {
                var v = i < end ? w[i] / divisor : 0f;
                if (int8)
                {
                    ((sbyte*)dst)[i] = (sbyte)Math.Clamp(MathF.Round(v), -127f, 127f);
                    continue;
                }

                var code = 0; // how many of the 15 midpoints lie below v: a binary search in 4 steps
                for (var step = 8; step > 0; step >>= 1)
                {
                    if (code + step <= 15 && mids[code + step - 1] < v)
                    {
                        code += step;
                    }
                }

                dst[i >> 1] = (i & 1) == 0 ? (byte)((dst[i >> 1] & 0xF0) | code) : (byte)((dst[i >> 1] & 0x0F) | (code << 4));
            }
        }
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
