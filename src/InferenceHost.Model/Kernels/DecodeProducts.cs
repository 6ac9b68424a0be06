using InferenceHost.Model.Quantization;
using static TorchSharp.torch;

namespace InferenceHost.Model.Kernels;

/// <summary>
/// The one place that chooses between the C# decode kernels and libtorch: a product goes to the kernels when
/// it is decode-shaped (at most <see cref="MaxRows"/> activation rows), on the CPU, without autograd, and the
/// weight is float32, bfloat16 or quantized; everything else (prefill, big batches, CUDA, float16, training)
/// stays with libtorch.
/// </summary>
public static class DecodeProducts
{
    /// <summary>
    /// Rows up to which the kernels beat libtorch, measured with <c>bench-kernels</c> on TinyLlama's
    /// shapes (docs/benchmarks.md): bfloat16 wins at every m up to 16, float32 up to about 8.
    /// </summary>
    public const int MaxRows = 8;

    /// <summary>Whether a product of <paramref name="x"/> ([..., in]) goes to the kernels.</summary>
    public static bool Applies(Tensor x, long inFeatures) =>
        x.device_type == TorchSharp.DeviceType.CPU && !x.requires_grad && x.NumberOfElements <= MaxRows * inFeatures
        && x.dtype is ScalarType.Float32 or ScalarType.BFloat16;

    /// <summary>The instruction set the kernels use for <paramref name="format"/> on this machine.</summary>
    public static KernelIsa Isa(KernelFormat format) => DecodeKernels.Best(format);

    /// <summary>Threads a product is split across (the caller and the pool's workers).</summary>
    public static int Threads => KernelPool.Shared.Threads;

    /// <summary>Whether the kernels read a dense weight of this dtype.</summary>
    public static bool Reads(ScalarType weightDType) => weightDType is ScalarType.Float32 or ScalarType.BFloat16;

    /// <summary>x · Wᵀ for a dense [out, in] float32 or bfloat16 CPU weight; the result in x's dtype, [..., out].</summary>
    public static Tensor Linear(Tensor x, Tensor weight) => Run(x, DenseJob(weight), null);

    /// <summary>x · Wᵀ for a quantized CPU weight; the result in x's dtype, [..., out].</summary>
    public static Tensor Linear(Tensor x, QuantizedWeight weight) => Run(x, weight.Job(), null);

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
    internal static unsafe Tensor Run(Tensor x, ProductJob job, KernelIsa? isa)
    {
        if (x.shape[^1] != job.In)
        {
            throw new ArgumentException($"x has {x.shape[^1]} features, the weight {job.In}");
        }

        using var scope = NewDisposeScope();
        var shape = x.shape.ToArray();
        shape[^1] = job.Out;
        var xf = x.to_type(ScalarType.Float32).contiguous(); // [..., in]
        var y = empty(shape, dtype: ScalarType.Float32); // [..., out]
        job.M = (int)(x.NumberOfElements / job.In);
        job.X = (float*)TensorMemory.Pointer(xf, ScalarType.Float32);
        job.Y = (float*)TensorMemory.Pointer(y, ScalarType.Float32);
        job.Isa = isa ?? DecodeKernels.Best(job.Format);
        if (!DecodeKernels.Supports(job.Isa, job.Format))
        {
            throw new PlatformNotSupportedException($"{job.Isa} does not run {job.Format} on this machine");
        }

        if (job.M > 0)
        {
            KernelPool.Shared.Run(job);
        }

        return (x.dtype == ScalarType.Float32 ? y : y.to_type(x.dtype)).MoveToOuterDisposeScope();
    }
}
