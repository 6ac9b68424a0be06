using InferenceHost.Model.Quantization;
using static TorchSharp.torch;

namespace InferenceHost.Model.Kernels;

/// <summary>
/// The one place that chooses between the C# decode kernels and libtorch: a product goes to the kernels when
/// it is decode-shaped (at most <see cref="MaxRows"/> activation rows for its weight format), on the CPU, without
/// autograd, and the weight is float32, bfloat16 or quantized; everything else (prefill, big batches, CUDA,
/// float16, training) stays with libtorch.
/// </summary>
public static class DecodeProducts
{
    /// <summary>
    /// Rows up to which the kernels beat libtorch for a weight format, measured with <c>bench-kernels</c> on
    /// TinyLlama's 2048→5632 product on this project's 2-core AVX-512 machines (docs/benchmarks.md): float32
    /// 1.5–2.7× faster up to 16 rows; bfloat16 up to two rows (one weight row at a time: 0.65 ms against
    /// libtorch's 0.78 at two rows; from four rows on libtorch's bfloat16 product, oneDNN with the CPU's
    /// AVX512-BF16 dot products, wins); int8 and NF4 against unpack-then-libtorch up to 8.
    /// </summary>
    public static int MaxRows(KernelFormat format) => format == KernelFormat.BFloat16 ? 2 : 8;

    /// <summary>The kernel format of a dense weight of <paramref name="dtype"/>, or null when the kernels do not read it.</summary>
    public static KernelFormat? DenseFormat(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => KernelFormat.Float32,
        ScalarType.BFloat16 => KernelFormat.BFloat16,
        _ => null,
    };

    /// <summary>Whether a product of <paramref name="x"/> ([..., in]) with a weight in <paramref name="format"/> goes to the kernels.</summary>
    public static bool Applies(Tensor x, long inFeatures, KernelFormat? format) =>
        format is { } f && x.device_type == TorchSharp.DeviceType.CPU && !x.requires_grad
        && x.NumberOfElements <= MaxRows(f) * inFeatures && x.dtype is ScalarType.Float32 or ScalarType.BFloat16;

    /// <summary>The instruction set the kernels use for <paramref name="format"/> on this machine.</summary>
    public static KernelIsa Isa(KernelFormat format) => DecodeKernels.Best(format);

    /// <summary>Threads a product is split across (the caller and the pool's workers).</summary>
    public static int Threads => KernelPool.Shared.Threads;

    /// <summary>x · Wᵀ for a dense [out, in] float32 or bfloat16 CPU weight; the result in x's dtype, [..., out].</summary>
    public static Tensor Linear(Tensor x, Tensor weight) => Run(x, DenseJob(weight), null);

    /// <summary>x · Wᵀ for a quantized CPU weight; the result in x's dtype, [..., out].</summary>
    public static Tensor Linear(Tensor x, QuantizedWeight weight) => Run(x, weight.Job(), null);

    /// <summary>A quantized CPU weight as a dense [out, in] tensor in <paramref name="dtype"/>, decoded by the kernels' own loads over the pool's threads.</summary>
    public static Tensor Unpack(QuantizedWeight weight, ScalarType dtype) => Unpack(weight.Job(), dtype, null);

    /// <summary>A quantized weight as a dense [out, in] tensor in <paramref name="dtype"/>: the kernels' loads on the CPU (<see cref="Unpack(QuantizedWeight, ScalarType)"/>), libtorch ops elsewhere.</summary>
    public static Tensor Dense(QuantizedWeight weight, ScalarType dtype) =>
        weight.Data.device_type == TorchSharp.DeviceType.CPU ? Unpack(weight, dtype) : weight.Dequantize(dtype);

    internal static unsafe Tensor Unpack(ProductJob job, ScalarType dtype, KernelIsa? isa)
    {
        using var scope = NewDisposeScope();
        var w = empty(job.Out, job.In, dtype: ScalarType.Float32); // [out, in]
        job.Y = (float*)TensorMemory.Pointer(w, ScalarType.Float32);
        job.Unpack = true;
        job.M = 1;
        job.Isa = isa ?? DecodeKernels.Best(job.Format);
        KernelPool.Shared.Run(job);
        return (dtype == ScalarType.Float32 ? w : w.to_type(dtype)).MoveToOuterDisposeScope();
    }

    internal static unsafe ProductJob DenseJob(Tensor weight)
    {
        var format = weight.dtype == ScalarType.BFloat16 ? KernelFormat.BFloat16 : KernelFormat.Float32;
        return new ProductJob
        {
            Format = format,
            W = (byte*)TensorMemory.Pointer(weight, weight.dtype),
            RowBytes = weight.shape[1] * weight.ElementSize,
            In = (int)weight.shape[1],
            Out = (int)weight.shape[0],
        };
    }

    /// <summary>Runs <paramref name="job"/> (its weight set) on <paramref name="x"/>; <paramref name="isa"/> forces an instruction set (tests).</summary>
    internal static Tensor Run(Tensor x, ProductJob job, KernelIsa? isa) => Run(x, new Span<ProductJob>(ref job), isa)[0];

    /// <summary>
    /// x · Wᵢᵀ for every job in <paramref name="jobs"/> (weights set, all with x's in-features) in one hand-off to the
    /// pool: the products a layer takes of one activation (q, k, v; gate, up), each result [..., outᵢ] in x's dtype
    /// and equal to that job's own <see cref="Run(Tensor, ProductJob, KernelIsa?)"/>.
    /// </summary>
    internal static unsafe Tensor[] Run(Tensor x, Span<ProductJob> jobs, KernelIsa? isa)
    {
        foreach (ref readonly var job in jobs)
        {
            if (x.shape[^1] != job.In)
            {
                throw new ArgumentException($"x has {x.shape[^1]} features, the weight {job.In}");
            }
        }

        using var scope = NewDisposeScope();
        var shape = x.shape.ToArray();
        var xf = x.to_type(ScalarType.Float32).contiguous(); // [..., in]
        var m = (int)(x.NumberOfElements / x.shape[^1]);
        var ys = new Tensor[jobs.Length];
        for (var i = 0; i < jobs.Length; i++)
        {
            ref var job = ref jobs[i];
            shape[^1] = job.Out;
            ys[i] = empty(shape, dtype: ScalarType.Float32); // [..., out]
            job.M = m;
            job.X = (float*)TensorMemory.Pointer(xf, ScalarType.Float32);
            job.Y = (float*)TensorMemory.Pointer(ys[i], ScalarType.Float32);
            job.Isa = isa ?? DecodeKernels.Best(job.Format);
            if (!DecodeKernels.Supports(job.Isa, job.Format))
            {
                throw new PlatformNotSupportedException($"{job.Isa} does not run {job.Format} on this machine");
            }
        }

        if (m > 0)
        {
            KernelPool.Shared.Run(jobs);
        }

        for (var i = 0; i < ys.Length; i++)
        {
            ys[i] = (x.dtype == ScalarType.Float32 ? ys[i] : ys[i].to_type(x.dtype)).MoveToOuterDisposeScope();
        }

        return ys;
    }
}
