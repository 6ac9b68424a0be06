using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using InferenceHost.Model.Quantization;

namespace InferenceHost.Model.Kernels;

/// <summary>
/// The decode-shaped products: each weight row is streamed once per call. One or two activation rows meet
/// one weight row at a time, so the weights stream as one sequential run; more rows meet a register tile of
/// four weight rows (each vector loaded and widened once) against up to four activation rows (each vector
/// loaded once), one float32 accumulator per pair, so a weight byte and an activation byte are each used four
/// times. Formats widen to float32 in registers:
/// bfloat16 by a 16-bit shift, int8 by sign extension times the group's scale, NF4 by a 16-entry table
/// lookup (two 8-lane permutes and a blend) times the block's absmax. In-features that do not fill a
/// vector (the tail) go through the scalar reference, <see cref="IFormat.At"/>.
/// </summary>
internal static unsafe class DecodeKernels
{
    /// <summary>The fastest instruction set this machine runs <paramref name="format"/> on.</summary>
    public static KernelIsa Best(KernelFormat format) =>
        Vector512.IsHardwareAccelerated && Supports(KernelIsa.Vector512, format) ? KernelIsa.Vector512
        : Supports(KernelIsa.Avx2, format) ? KernelIsa.Avx2
        : KernelIsa.Scalar;

    /// <summary>Whether <paramref name="isa"/> runs <paramref name="format"/> here (Vector512 runs everywhere, emulated where not accelerated; its NF4 decode needs AVX2).</summary>
    public static bool Supports(KernelIsa isa, KernelFormat format) => isa switch
    {
        KernelIsa.Scalar => true,
        KernelIsa.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        KernelIsa.Vector512 => format != KernelFormat.Nf4 || Avx2.IsSupported,
        _ => false,
    };

    /// <summary>The NF4 code book as the vector paths hold it.</summary>
    internal static float[] Nf4CodeBook() => Nf4Codes.VectorTable();

    public static void Run(in ProductJob j, int start, int end)
    {
        switch (j.Format)
        {
            case KernelFormat.Float32: Run<F32>(j, start, end); break;
            case KernelFormat.BFloat16: Run<Bf16>(j, start, end); break;
            case KernelFormat.Int8: Run<Int8>(j, start, end); break;
            case KernelFormat.Nf4: Run<Nf4Codes>(j, start, end); break;
            default: throw new ArgumentOutOfRangeException(nameof(j), j.Format, "unknown kernel format");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the hot loops: fully optimized from the first call, not after tiering
    private static void Run<TF>(in ProductJob j, int start, int end)
        where TF : struct, IFormat
    {
        var n = j.In;
        if (j.Unpack)
        {
            for (var o = start; o < end; o++)
            {
                Unpack<TF>(j, o);
            }

            return;
        }

        if (j.Isa == KernelIsa.Scalar)
        {
            for (var o = start; o < end; o++)
            {
                DotScalar<TF>(RowOf(j, o), j.X, n, j.M, j.Y + o, j.Out);
            }

            return;
        }

        // In-features in chunks whose slice of x (all m rows) stays in the L1 cache while the chunk's weight
        // columns stream past; partial sums accumulate in y. A chunk is a multiple of 64, so only the last has a tail.
        var chunk = Math.Max(256, 16384 / (4 * j.M) / 64 * 64);
        var rowGroup = j.Isa == KernelIsa.Avx2 ? 2 : 4; // AVX2 has 16 registers: 4 weight rows × 2 x rows of accumulators
        for (var k0 = 0; k0 < n; k0 += chunk)
        {
            var k1 = Math.Min(n, k0 + chunk);
            var accumulate = k0 > 0;
            var o = start;
            if (j.M <= 2)
            {
                // One or two x rows: one weight row at a time, so the weights stream from memory as one sequential
                // run (four rows side by side are four streams, which the prefetchers serve worse: int8 took twice
                // as long at m = 1, measured); the x rows come from L1 either way.
                for (; o < end; o++)
                {
                    var y = j.Y + o;
                    switch (j.Isa, j.M)
                    {
                        case (KernelIsa.Avx2, 1): Row256<TF, R1>(j, o, y, k0, k1, accumulate); break;
                        case (KernelIsa.Avx2, _): Row256<TF, R2>(j, o, y, k0, k1, accumulate); break;
                        case (_, 1): Row512<TF, R1>(j, o, y, k0, k1, accumulate); break;
                        default: Row512<TF, R2>(j, o, y, k0, k1, accumulate); break;
                    }
                }

                continue;
            }

            // More x rows: the arithmetic dominates, and a tile of four weight rows uses each x vector four times.
            for (; o + 4 <= end; o += 4)
            {
                for (var r = 0; r < j.M; r += rowGroup)
                {
                    Tile<TF, R4>(j, o, r, k0, k1, accumulate);
                }
            }

            for (; o < end; o++)
            {
                for (var r = 0; r < j.M; r += rowGroup)
                {
                    Tile<TF, R1>(j, o, r, k0, k1, accumulate);
                }
            }
        }
    }

    // One weight row against TR (1 or 2) x rows, four accumulators per x row (a chain of FMAs each, so their
    // latency overlaps). Vector512: 64 in-features a step; AVX2: 32.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row512<TF, TR>(in ProductJob j, int o, float* y, int k0, int k1, bool accumulate)
        where TF : struct, IFormat
        where TR : struct, IRowCount
    {
        var n = j.In;
        var row = RowOf(j, o);
        var x = j.X;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        var i = k0;
        for (; i + 64 <= k1; i += 64)
        {
            var w0 = TF.Load16(row, i);
            var w1 = TF.Load16(row, i + 16);
            var w2 = TF.Load16(row, i + 32);
            var w3 = TF.Load16(row, i + 48);
            a0 = Vector512.FusedMultiplyAdd(w0, Vector512.Load(x + i), a0);
            a1 = Vector512.FusedMultiplyAdd(w1, Vector512.Load(x + i + 16), a1);
            a2 = Vector512.FusedMultiplyAdd(w2, Vector512.Load(x + i + 32), a2);
            a3 = Vector512.FusedMultiplyAdd(w3, Vector512.Load(x + i + 48), a3);
            if (TR.N > 1)
            {
                b0 = Vector512.FusedMultiplyAdd(w0, Vector512.Load(x + n + i), b0);
                b1 = Vector512.FusedMultiplyAdd(w1, Vector512.Load(x + n + i + 16), b1);
                b2 = Vector512.FusedMultiplyAdd(w2, Vector512.Load(x + n + i + 32), b2);
                b3 = Vector512.FusedMultiplyAdd(w3, Vector512.Load(x + n + i + 48), b3);
            }
        }

        for (; i + 16 <= k1; i += 16)
        {
            var w = TF.Load16(row, i);
            a0 = Vector512.FusedMultiplyAdd(w, Vector512.Load(x + i), a0);
            if (TR.N > 1)
            {
                b0 = Vector512.FusedMultiplyAdd(w, Vector512.Load(x + n + i), b0);
            }
        }

        Store<TF>(row, x, i, k1, y, Vector512.Sum((a0 + a1) + (a2 + a3)), accumulate);
        if (TR.N > 1)
        {
            Store<TF>(row, x + n, i, k1, y + j.Out, Vector512.Sum((b0 + b1) + (b2 + b3)), accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row256<TF, TR>(in ProductJob j, int o, float* y, int k0, int k1, bool accumulate)
        where TF : struct, IFormat
        where TR : struct, IRowCount
    {
        var n = j.In;
        var row = RowOf(j, o);
        var x = j.X;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        var i = k0;
        for (; i + 32 <= k1; i += 32)
        {
            var w0 = TF.Load8(row, i);
            var w1 = TF.Load8(row, i + 8);
            var w2 = TF.Load8(row, i + 16);
            var w3 = TF.Load8(row, i + 24);
            a0 = Fma.MultiplyAdd(w0, Avx.LoadVector256(x + i), a0);
            a1 = Fma.MultiplyAdd(w1, Avx.LoadVector256(x + i + 8), a1);
            a2 = Fma.MultiplyAdd(w2, Avx.LoadVector256(x + i + 16), a2);
            a3 = Fma.MultiplyAdd(w3, Avx.LoadVector256(x + i + 24), a3);
            if (TR.N > 1)
            {
                b0 = Fma.MultiplyAdd(w0, Avx.LoadVector256(x + n + i), b0);
                b1 = Fma.MultiplyAdd(w1, Avx.LoadVector256(x + n + i + 8), b1);
                b2 = Fma.MultiplyAdd(w2, Avx.LoadVector256(x + n + i + 16), b2);
                b3 = Fma.MultiplyAdd(w3, Avx.LoadVector256(x + n + i + 24), b3);
            }
        }

        for (; i + 8 <= k1; i += 8)
        {
            var w = TF.Load8(row, i);
            a0 = Fma.MultiplyAdd(w, Avx.LoadVector256(x + i), a0);
            if (TR.N > 1)
            {
                b0 = Fma.MultiplyAdd(w, Avx.LoadVector256(x + n + i), b0);
            }
        }

        Store<TF>(row, x, i, k1, y, Vector256.Sum((a0 + a1) + (a2 + a3)), accumulate);
        if (TR.N > 1)
        {
            Store<TF>(row, x + n, i, k1, y + j.Out, Vector256.Sum((b0 + b1) + (b2 + b3)), accumulate);
        }
    }

    /// <summary>Output features [o, o + TO) × x rows [r, r + up to 4), in-features [k0, k1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<TF, TO>(in ProductJob j, int o, int r, int k0, int k1, bool accumulate)
        where TF : struct, IFormat
        where TO : struct, IRowCount
    {
        var x = j.X + ((long)r * j.In);
        var y = j.Y + ((long)r * j.Out) + o;
        switch (j.Isa, j.M - r)
        {
            case (KernelIsa.Avx2, 1): Tile256<TF, TO, R1>(j, o, x, y, k0, k1, accumulate); break;
            case (KernelIsa.Avx2, _): Tile256<TF, TO, R2>(j, o, x, y, k0, k1, accumulate); break;
            case (_, 1): Tile512<TF, TO, R1>(j, o, x, y, k0, k1, accumulate); break;
            case (_, 2): Tile512<TF, TO, R2>(j, o, x, y, k0, k1, accumulate); break;
            case (_, 3): Tile512<TF, TO, R3>(j, o, x, y, k0, k1, accumulate); break;
            default: Tile512<TF, TO, R4>(j, o, x, y, k0, k1, accumulate); break;
        }
    }

    // Register tiles: TO (1 or 4) weight rows, each widened once per vector, against TR x rows; one
    // accumulator per pair. Vector512 holds 4×4 accumulators in its 32 registers, AVX2 4×2 in its 16.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512<TF, TO, TR>(in ProductJob j, int o, float* x, float* y, int k0, int k1, bool accumulate)
        where TF : struct, IFormat
        where TO : struct, IRowCount
        where TR : struct, IRowCount
    {
        var n = j.In;
        var r0 = RowOf(j, o + 0);
        var r1 = TO.N > 1 ? RowOf(j, o + 1) : default;
        var r2 = TO.N > 2 ? RowOf(j, o + 2) : default;
        var r3 = TO.N > 3 ? RowOf(j, o + 3) : default;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default, a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        var i = k0;
        for (; i + 16 <= k1; i += 16)
        {
            var w0 = TF.Load16(r0, i);
            var w1 = TO.N > 1 ? TF.Load16(r1, i) : default;
            var w2 = TO.N > 2 ? TF.Load16(r2, i) : default;
            var w3 = TO.N > 3 ? TF.Load16(r3, i) : default;
            var x0 = Vector512.Load(x + i);
            a00 = Vector512.FusedMultiplyAdd(w0, x0, a00);
            if (TO.N > 1)
            {
                a10 = Vector512.FusedMultiplyAdd(w1, x0, a10);
                a20 = Vector512.FusedMultiplyAdd(w2, x0, a20);
                a30 = Vector512.FusedMultiplyAdd(w3, x0, a30);
            }

            if (TR.N > 1)
            {
                var x1 = Vector512.Load(x + n + i);
                a01 = Vector512.FusedMultiplyAdd(w0, x1, a01);
                if (TO.N > 1)
                {
                    a11 = Vector512.FusedMultiplyAdd(w1, x1, a11);
                    a21 = Vector512.FusedMultiplyAdd(w2, x1, a21);
                    a31 = Vector512.FusedMultiplyAdd(w3, x1, a31);
                }
            }

            if (TR.N > 2)
            {
                var x2 = Vector512.Load(x + (2 * n) + i);
                a02 = Vector512.FusedMultiplyAdd(w0, x2, a02);
                if (TO.N > 1)
                {
                    a12 = Vector512.FusedMultiplyAdd(w1, x2, a12);
                    a22 = Vector512.FusedMultiplyAdd(w2, x2, a22);
                    a32 = Vector512.FusedMultiplyAdd(w3, x2, a32);
                }
            }

            if (TR.N > 3)
            {
                var x3 = Vector512.Load(x + (3 * n) + i);
                a03 = Vector512.FusedMultiplyAdd(w0, x3, a03);
                if (TO.N > 1)
                {
                    a13 = Vector512.FusedMultiplyAdd(w1, x3, a13);
                    a23 = Vector512.FusedMultiplyAdd(w2, x3, a23);
                    a33 = Vector512.FusedMultiplyAdd(w3, x3, a33);
                }
            }
        }

        Store<TF>(r0, x, i, k1, y, Vector512.Sum(a00), accumulate);
        if (TO.N > 1)
        {
            Store<TF>(r1, x, i, k1, y + 1, Vector512.Sum(a10), accumulate);
            Store<TF>(r2, x, i, k1, y + 2, Vector512.Sum(a20), accumulate);
            Store<TF>(r3, x, i, k1, y + 3, Vector512.Sum(a30), accumulate);
        }

        if (TR.N > 1)
        {
            Store<TF>(r0, x + n, i, k1, y + j.Out, Vector512.Sum(a01), accumulate);
            if (TO.N > 1)
            {
                Store<TF>(r1, x + n, i, k1, y + j.Out + 1, Vector512.Sum(a11), accumulate);
                Store<TF>(r2, x + n, i, k1, y + j.Out + 2, Vector512.Sum(a21), accumulate);
                Store<TF>(r3, x + n, i, k1, y + j.Out + 3, Vector512.Sum(a31), accumulate);
            }
        }

        if (TR.N > 2)
        {
            Store<TF>(r0, x + (2 * n), i, k1, y + (2 * j.Out), Vector512.Sum(a02), accumulate);
            if (TO.N > 1)
            {
                Store<TF>(r1, x + (2 * n), i, k1, y + (2 * j.Out) + 1, Vector512.Sum(a12), accumulate);
                Store<TF>(r2, x + (2 * n), i, k1, y + (2 * j.Out) + 2, Vector512.Sum(a22), accumulate);
                Store<TF>(r3, x + (2 * n), i, k1, y + (2 * j.Out) + 3, Vector512.Sum(a32), accumulate);
            }
        }

        if (TR.N > 3)
        {
            Store<TF>(r0, x + (3 * n), i, k1, y + (3 * j.Out), Vector512.Sum(a03), accumulate);
            if (TO.N > 1)
            {
                Store<TF>(r1, x + (3 * n), i, k1, y + (3 * j.Out) + 1, Vector512.Sum(a13), accumulate);
                Store<TF>(r2, x + (3 * n), i, k1, y + (3 * j.Out) + 2, Vector512.Sum(a23), accumulate);
                Store<TF>(r3, x + (3 * n), i, k1, y + (3 * j.Out) + 3, Vector512.Sum(a33), accumulate);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256<TF, TO, TR>(in ProductJob j, int o, float* x, float* y, int k0, int k1, bool accumulate)
        where TF : struct, IFormat
        where TO : struct, IRowCount
        where TR : struct, IRowCount
    {
        var n = j.In;
        var r0 = RowOf(j, o + 0);
        var r1 = TO.N > 1 ? RowOf(j, o + 1) : default;
        var r2 = TO.N > 2 ? RowOf(j, o + 2) : default;
        var r3 = TO.N > 3 ? RowOf(j, o + 3) : default;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        var i = k0;
        for (; i + 8 <= k1; i += 8)
        {
            var w0 = TF.Load8(r0, i);
            var w1 = TO.N > 1 ? TF.Load8(r1, i) : default;
            var w2 = TO.N > 2 ? TF.Load8(r2, i) : default;
            var w3 = TO.N > 3 ? TF.Load8(r3, i) : default;
            var x0 = Avx.LoadVector256(x + i);
            a00 = Fma.MultiplyAdd(w0, x0, a00);
            if (TO.N > 1)
            {
                a10 = Fma.MultiplyAdd(w1, x0, a10);
                a20 = Fma.MultiplyAdd(w2, x0, a20);
                a30 = Fma.MultiplyAdd(w3, x0, a30);
            }

            if (TR.N > 1)
            {
                var x1 = Avx.LoadVector256(x + n + i);
                a01 = Fma.MultiplyAdd(w0, x1, a01);
                if (TO.N > 1)
                {
                    a11 = Fma.MultiplyAdd(w1, x1, a11);
                    a21 = Fma.MultiplyAdd(w2, x1, a21);
                    a31 = Fma.MultiplyAdd(w3, x1, a31);
                }
            }
        }

        Store<TF>(r0, x, i, k1, y, Vector256.Sum(a00), accumulate);
        if (TO.N > 1)
        {
            Store<TF>(r1, x, i, k1, y + 1, Vector256.Sum(a10), accumulate);
            Store<TF>(r2, x, i, k1, y + 2, Vector256.Sum(a20), accumulate);
            Store<TF>(r3, x, i, k1, y + 3, Vector256.Sum(a30), accumulate);
        }

        if (TR.N > 1)
        {
            Store<TF>(r0, x + n, i, k1, y + j.Out, Vector256.Sum(a01), accumulate);
            if (TO.N > 1)
            {
                Store<TF>(r1, x + n, i, k1, y + j.Out + 1, Vector256.Sum(a11), accumulate);
                Store<TF>(r2, x + n, i, k1, y + j.Out + 2, Vector256.Sum(a21), accumulate);
                Store<TF>(r3, x + n, i, k1, y + j.Out + 3, Vector256.Sum(a31), accumulate);
            }
        }
    }


    /// <summary>Weight row <paramref name="o"/> as float32 into row o of Y (the prefill path of a quantized weight).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Unpack<TF>(in ProductJob j, int o)
        where TF : struct, IFormat
    {
        var row = RowOf(j, o);
        var y = j.Y + ((long)o * j.In);
        var i = 0;
        if (j.Isa == KernelIsa.Vector512)
        {
            for (; i + 16 <= j.In; i += 16)
            {
                TF.Load16(row, i).Store(y + i);
            }
        }
        else if (j.Isa == KernelIsa.Avx2)
        {
            for (; i + 8 <= j.In; i += 8)
            {
                TF.Load8(row, i).Store(y + i);
            }
        }

        for (; i < j.In; i++)
        {
            y[i] = TF.At(row, i);
        }
    }

    /// <summary>Adds the tail in-features [i, k1) of one (weight row, x row) pair in scalar code and stores the sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TF>(in Row row, float* x, int i, int k1, float* y, float sum, bool accumulate)
        where TF : struct, IFormat
    {
        for (; i < k1; i++)
        {
            sum += TF.At(row, i) * x[i];
        }

        *y = accumulate ? *y + sum : sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Row RowOf(in ProductJob j, int o) =>
        new(j.W + (o * j.RowBytes), j.Scales + ((long)o * j.ScaleStride), j.GroupShift);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotScalar<TF>(in Row row, float* x, int n, int rows, float* y, int yStride)
        where TF : struct, IFormat
    {
        for (var r = 0; r < rows; r++)
        {
            var s = 0f;
            var xr = x + ((long)r * n);
            for (var i = 0; i < n; i++)
            {
                s += TF.At(row, i) * xr[i];
            }

            y[(long)r * yStride] = s;
        }
    }

    /// <summary>One weight row: its bytes, its scales, log2 of the in-features per scale.</summary>
    internal readonly struct Row(byte* data, float* scales, int groupShift)
    {
        public readonly byte* Data = data;
        public readonly float* Scales = scales;
        public readonly int GroupShift = groupShift;
    }

    /// <summary>How a format turns stored weights into float32: 8 (AVX2) or 16 (Vector512) at a time, or one.</summary>
    internal interface IFormat
    {
        /// <summary>In-features [i, i + 8); i is a multiple of 8 and a group never straddles it.</summary>
        static abstract Vector256<float> Load8(in Row r, int i);

        /// <summary>In-features [i, i + 16); i is a multiple of 16.</summary>
        static abstract Vector512<float> Load16(in Row r, int i);

        /// <summary>The scalar reference: in-feature i as float32.</summary>
        static abstract float At(in Row r, int i);

    }

    internal interface IRowCount
    {
        static abstract int N { get; }
    }

    private struct R1 : IRowCount
    {
        public static int N => 1;
    }

    private struct R2 : IRowCount
    {
        public static int N => 2;
    }

    private struct R3 : IRowCount
    {
        public static int N => 3;
    }

    private struct R4 : IRowCount
    {
        public static int N => 4;
    }

    private struct F32 : IFormat
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(in Row r, int i) => Avx.LoadVector256((float*)r.Data + i);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load16(in Row r, int i) => Vector512.Load((float*)r.Data + i);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float At(in Row r, int i) => ((float*)r.Data)[i];
    }

    private struct Bf16 : IFormat
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(in Row r, int i) =>
            Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32((ushort*)r.Data + i), 16).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load16(in Row r, int i) => Avx512F.IsSupported
            ? Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)r.Data + i)), 16).AsSingle()
            : Vector512.ShiftLeft(Vector512.WidenLower(Vector512.Create(Vector256.Load((ushort*)r.Data + i), default)), 16).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float At(in Row r, int i) => BitConverter.Int32BitsToSingle(((ushort*)r.Data)[i] << 16);
    }

    private struct Int8 : IFormat
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(in Row r, int i) =>
            Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((sbyte*)r.Data + i)), Vector256.Create(r.Scales[i >> r.GroupShift]));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load16(in Row r, int i)
        {
            var s = Vector512.Create(r.Scales[i >> r.GroupShift]);
            if (Avx512F.IsSupported)
            {
                return Avx512F.Multiply(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)r.Data + i))), s);
            }

            var v = Vector128.Load((sbyte*)r.Data + i);
            var l = Vector128.WidenLower(v); // [8] int16
            var h = Vector128.WidenUpper(v);
            var ints = Vector512.Create(Vector256.Create(Vector128.WidenLower(l), Vector128.WidenUpper(l)), Vector256.Create(Vector128.WidenLower(h), Vector128.WidenUpper(h)));
            return Vector512.ConvertToSingle(ints) * s;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float At(in Row r, int i) => ((sbyte*)r.Data)[i] * r.Scales[i >> r.GroupShift];
    }

    private struct Nf4Codes : IFormat
    {
        // The code book as literal constants (Nf4.Table; a test checks they agree): static readonly vectors would
        // cost a class-initialization check in the loop, and the spills that the check's slow path forces.
        private static Vector256<float> TableLo
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Vector256.Create(-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f);
        }

        private static Vector256<float> TableHi
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Vector256.Create(0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f);
        }

        private static Vector512<float> Table16
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Vector512.Create(
                -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
                0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f);
        }

        private static Vector256<uint> Shifts
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Vector256.Create(0u, 4, 8, 12, 16, 20, 24, 28);
        }

        private static Vector512<uint> Shifts16
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Vector512.Create(0u, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
        }

        /// <summary>The code book the vector paths use, for the test that compares it with <see cref="Nf4.Table"/>.</summary>
        internal static float[] VectorTable()
        {
            var t = new float[16];
            Table16.CopyTo(t);
            return t;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(in Row r, int i) =>
            Avx.Multiply(Decode8(*(uint*)(r.Data + (i >> 1))), Vector256.Create(r.Scales[i >> r.GroupShift])); // code k of element i + k in bits 4k..4k+3

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load16(in Row r, int i)
        {
            var p = (uint*)(r.Data + (i >> 1));
            var s = Vector512.Create(r.Scales[i >> r.GroupShift]);
            if (Avx512F.IsSupported)
            {
                var words = Vector512.Create(Vector256.Create(p[0]), Vector256.Create(p[1])); // lanes 0-7 elements i..i+7, 8-15 the next 8
                var idx = Avx512F.And(Avx512F.ShiftRightLogicalVariable(words, Shifts16), Vector512.Create(15u)).AsInt32();
                return Avx512F.Multiply(Avx512F.PermuteVar16x32(Table16, idx), s); // one 16-entry table lookup
            }

            return Vector512.Create(Decode8(p[0]), Decode8(p[1])) * s;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float At(in Row r, int i)
        {
            var b = r.Data[i >> 1];
            return Nf4.Table[(i & 1) == 0 ? b & 15 : b >> 4] * r.Scales[i >> r.GroupShift];
        }

        /// <summary>Eight 4-bit codes (code k in bits 4k..4k+3) → their NormalFloat values.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Decode8(uint bits)
        {
            var idx = Avx2.And(Avx2.ShiftRightLogicalVariable(Vector256.Create(bits), Shifts), Vector256.Create(15u)).AsInt32();
            var low = Avx2.PermuteVar8x32(TableLo, idx); // codes 0..7 (the permute reads the low 3 bits)
            var high = Avx2.PermuteVar8x32(TableHi, idx); // codes 8..15
            return Avx.BlendVariable(low, high, Avx2.ShiftLeftLogical(idx, 28).AsSingle()); // bit 3 → sign bit selects high
        }
    }
}
