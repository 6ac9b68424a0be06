namespace InferenceHost.Model.Kernels;

/// <summary>The weight layouts the decode kernels read.</summary>
public enum KernelFormat
{
    /// <summary>W: [out, in] row-major float32.</summary>
    Float32,

    /// <summary>W: [out, in] row-major bfloat16 (the high 16 bits of a float32).</summary>
    BFloat16,

    /// <summary>W: [out, stride] row-major int8, one float32 scale per group of in-features: w = q · scale.</summary>
    Int8,

    /// <summary>W: [out, stride / 2] bytes, two 4-bit NormalFloat codes each (element 2j in the low nibble), one float32 absmax per block: w = NF4[code] · absmax.</summary>
    Nf4,
}

/// <summary>Which instruction set a kernel runs on.</summary>
public enum KernelIsa
{
    /// <summary>Plain C#, every machine.</summary>
    Scalar,

    /// <summary>AVX2 + FMA (x86-64).</summary>
    Avx2,

    /// <summary>Vector512 (AVX-512 where accelerated; the portable API elsewhere, which tests use to check the code path).</summary>
    Vector512,
}

/// <summary>
/// One decode-shaped product y[m, out] = x[m, in] · Wᵀ over memory the caller keeps alive for the call:
/// x: [m, in] float32 row-major, y: [m, out] float32 row-major, W in <see cref="Format"/>.
/// </summary>
internal unsafe struct ProductJob
{
    public KernelFormat Format;
    public KernelIsa Isa;
    public byte* W;
    public long RowBytes; // bytes from one weight row to the next
    public float* Scales; // [out, ScaleStride] (Int8, Nf4)
    public int ScaleStride;
    public int GroupShift; // log2 of the in-features per scale
    public float* X;
    public float* Y;
    public int M;
    public int In;
    public int Out;

    /// <summary>Instead of the product: write W itself as float32 into Y ([out, in] row-major); X and M unused.</summary>
    public bool Unpack;

    /// <summary>Computes output features [<paramref name="start"/>, <paramref name="end"/>) for every row of x.</summary>
    public readonly void Run(int start, int end) => DecodeKernels.Run(this, start, end);
}
