using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace InferenceHost.Model.Kernels;

/// <summary>
/// Merged mode's switch as one pass per matrix: W = P + B·A, written tile by tile from the pristine copy P,
/// so the restore and the merge read P once and write W once (libtorch's restore-then-<c>addmm_</c> reads and
/// writes W twice more and, for bfloat16 with a small inner dimension, runs far from the memory bound).
/// Four output rows at a time keep their accumulators in registers over the rank; the rank's rows of A for a
/// column tile stay in L1. Sums are float32 and rounded once to the weight's dtype (round to nearest even).
/// Multi-threaded over row blocks. Dense float32 and bfloat16 CPU weights; anything else stays on libtorch.
/// </summary>
public static unsafe class MergeKernel
{
    private const int RowBlock = 4;

    /// <summary>Off: merges take libtorch's path (copy, then <c>addmm_</c>); for benchmarks that compare the two.</summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>Whether <see cref="Merge"/> can write <paramref name="w"/>.</summary>
    public static bool Supports(Tensor w) =>
        Enabled && w.device_type == TorchSharp.DeviceType.CPU && w.dtype is ScalarType.Float32 or ScalarType.BFloat16 && w.dim() == 2 && w.is_contiguous();

    /// <summary>
    /// <paramref name="w"/> [out, in] = <paramref name="pristine"/> [out, in] + <paramref name="b"/> [out, R] ·
    /// <paramref name="a"/> [R, in]; w and pristine of one dtype (<see cref="Supports"/>), a and b contiguous CPU
    /// float32 with any scale already in b.
    /// </summary>
    public static void Merge(Tensor w, Tensor pristine, Tensor a, Tensor b)
    {
        var (rows, cols, rank) = ((int)w.shape[0], (int)w.shape[1], (int)a.shape[0]);
        if (!Supports(w) || pristine.dtype != w.dtype || !pristine.shape.SequenceEqual(w.shape)
            || a.shape[1] != cols || b.shape[0] != rows || b.shape[1] != rank)
        {
            throw new ArgumentException($"merge operands: W {Shape(w)} {w.dtype}, pristine {Shape(pristine)} {pristine.dtype}, A {Shape(a)}, B {Shape(b)}");
        }

        var bf16 = w.dtype == ScalarType.BFloat16;
        var job = new Job(
            (nint)TensorMemory.Pointer(w, w.dtype), (nint)TensorMemory.Pointer(pristine, w.dtype),
            (nint)TensorMemory.Pointer(a, ScalarType.Float32), (nint)TensorMemory.Pointer(b, ScalarType.Float32), rows, cols, rank, bf16);
        var blocks = (rows + RowBlock - 1) / RowBlock;
        var chunks = Math.Min(blocks, Environment.ProcessorCount * 4);
        if (chunks <= 1 || (long)rows * cols < 1 << 16)
        {
            job.Run(0, rows);
            return;
        }

        Parallel.For(0, chunks, c =>
        {
            var first = (int)((long)blocks * c / chunks) * RowBlock;
            var last = Math.Min(rows, (int)((long)blocks * (c + 1) / chunks) * RowBlock);
            job.Run(first, last);
        });
    }

    private static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    private readonly record struct Job(nint W, nint P, nint A, nint B, int Rows, int Cols, int Rank, bool Bf16)
    {
        public void Run(int first, int last)
        {
            for (var i = first; i < last; i += RowBlock)
            {
                var n = Math.Min(RowBlock, last - i);
                var j = 0;
                if (n == RowBlock)
                {
                    if (Vector512.IsHardwareAccelerated)
                    {
                        for (; j + 32 <= Cols; j += 32)
                        {
                            Tile512(i, j);
                        }
                    }

                    if (Vector256.IsHardwareAccelerated)
                    {
                        for (; j + 16 <= Cols; j += 16)
                        {
                            Tile256(i, j);
                        }
                    }
                }

                for (var k = 0; k < n; k++)
                {
                    Scalar(i + k, j);
                }
            }
        }

        /// <summary>Rows i..i+3, columns j..j+31: eight accumulators over the rank.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Tile512(int i, int j)
        {
            var (c0a, c0b) = (Load512(i, j), Load512(i, j + 16));
            var (c1a, c1b) = (Load512(i + 1, j), Load512(i + 1, j + 16));
            var (c2a, c2b) = (Load512(i + 2, j), Load512(i + 2, j + 16));
            var (c3a, c3b) = (Load512(i + 3, j), Load512(i + 3, j + 16));
            var a = (float*)A + j;
            var b = (float*)B + ((long)i * Rank);
            for (var r = 0; r < Rank; r++, a += Cols)
            {
                var (xa, xb) = (Vector512.Load(a), Vector512.Load(a + 16));
                var s = Vector512.Create(b[r]);
                (c0a, c0b) = (Vector512.FusedMultiplyAdd(xa, s, c0a), Vector512.FusedMultiplyAdd(xb, s, c0b));
                s = Vector512.Create(b[Rank + r]);
                (c1a, c1b) = (Vector512.FusedMultiplyAdd(xa, s, c1a), Vector512.FusedMultiplyAdd(xb, s, c1b));
                s = Vector512.Create(b[(2 * Rank) + r]);
                (c2a, c2b) = (Vector512.FusedMultiplyAdd(xa, s, c2a), Vector512.FusedMultiplyAdd(xb, s, c2b));
                s = Vector512.Create(b[(3 * Rank) + r]);
                (c3a, c3b) = (Vector512.FusedMultiplyAdd(xa, s, c3a), Vector512.FusedMultiplyAdd(xb, s, c3b));
            }

            Store512(i, j, c0a, c0b);
            Store512(i + 1, j, c1a, c1b);
            Store512(i + 2, j, c2a, c2b);
            Store512(i + 3, j, c3a, c3b);
        }

        /// <summary>Rows i..i+3, columns j..j+15.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Tile256(int i, int j)
        {
            var (c0a, c0b) = (Load256(i, j), Load256(i, j + 8));
            var (c1a, c1b) = (Load256(i + 1, j), Load256(i + 1, j + 8));
            var (c2a, c2b) = (Load256(i + 2, j), Load256(i + 2, j + 8));
            var (c3a, c3b) = (Load256(i + 3, j), Load256(i + 3, j + 8));
            var a = (float*)A + j;
            var b = (float*)B + ((long)i * Rank);
            for (var r = 0; r < Rank; r++, a += Cols)
            {
                var (xa, xb) = (Vector256.Load(a), Vector256.Load(a + 8));
                var s = Vector256.Create(b[r]);
                (c0a, c0b) = (Vector256.FusedMultiplyAdd(xa, s, c0a), Vector256.FusedMultiplyAdd(xb, s, c0b));
                s = Vector256.Create(b[Rank + r]);
                (c1a, c1b) = (Vector256.FusedMultiplyAdd(xa, s, c1a), Vector256.FusedMultiplyAdd(xb, s, c1b));
                s = Vector256.Create(b[(2 * Rank) + r]);
                (c2a, c2b) = (Vector256.FusedMultiplyAdd(xa, s, c2a), Vector256.FusedMultiplyAdd(xb, s, c2b));
                s = Vector256.Create(b[(3 * Rank) + r]);
                (c3a, c3b) = (Vector256.FusedMultiplyAdd(xa, s, c3a), Vector256.FusedMultiplyAdd(xb, s, c3b));
            }

            Store256(i, j, c0a, c0b);
            Store256(i + 1, j, c1a, c1b);
            Store256(i + 2, j, c2a, c2b);
            Store256(i + 3, j, c3a, c3b);
        }

        /// <summary>Row i from column j to the end, one element at a time (the same float32 sum, fused).</summary>
        private void Scalar(int i, int j)
        {
            var b = (float*)B + ((long)i * Rank);
            for (; j < Cols; j++)
            {
                var acc = Bf16 ? Widen(((ushort*)P)[((long)i * Cols) + j]) : ((float*)P)[((long)i * Cols) + j];
                var a = (float*)A + j;
                for (var r = 0; r < Rank; r++, a += Cols)
                {
                    acc = MathF.FusedMultiplyAdd(*a, b[r], acc);
                }

                if (Bf16)
                {
                    ((ushort*)W)[((long)i * Cols) + j] = Round(acc);
                }
                else
                {
                    ((float*)W)[((long)i * Cols) + j] = acc;
                }
            }
        }

        private Vector512<float> Load512(int i, int j)
        {
            var at = ((long)i * Cols) + j;
            return Bf16
                ? Vector512.ShiftLeft(Vector512.WidenLower(Vector512.Create(Vector256.Load((ushort*)P + at), default)), 16).AsSingle()
                : Vector512.Load((float*)P + at);
        }

        private void Store512(int i, int j, Vector512<float> lo, Vector512<float> hi)
        {
            var at = ((long)i * Cols) + j;
            if (Bf16)
            {
                Vector512.Narrow(Round(lo), Round(hi)).Store((ushort*)W + at);
            }
            else
            {
                lo.Store((float*)W + at);
                hi.Store((float*)W + at + 16);
            }
        }

        private Vector256<float> Load256(int i, int j)
        {
            var at = ((long)i * Cols) + j;
            return Bf16
                ? Vector256.ShiftLeft(Vector256.WidenLower(Vector256.Create(Vector128.Load((ushort*)P + at), default)), 16).AsSingle()
                : Vector256.Load((float*)P + at);
        }

        private void Store256(int i, int j, Vector256<float> lo, Vector256<float> hi)
        {
            var at = ((long)i * Cols) + j;
            if (Bf16)
            {
                Vector256.Narrow(Round(lo), Round(hi)).Store((ushort*)W + at);
            }
            else
            {
                lo.Store((float*)W + at);
                hi.Store((float*)W + at + 8);
            }
        }
    }

    private static float Widen(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>float32 → bfloat16 bits, round to nearest even (the sums are finite: merges are bounded first).</summary>
    private static ushort Round(float x)
    {
        var bits = BitConverter.SingleToUInt32Bits(x);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    /// <summary>The same rounding per lane; the result's low halves are the bfloat16 bits.</summary>
    private static Vector512<uint> Round(Vector512<float> x)
    {
        var bits = x.AsUInt32();
        return Vector512.ShiftRightLogical(bits + Vector512.Create(0x7FFFu) + (Vector512.ShiftRightLogical(bits, 16) & Vector512<uint>.One), 16);
    }

    private static Vector256<uint> Round(Vector256<float> x)
    {
        var bits = x.AsUInt32();
        return Vector256.ShiftRightLogical(bits + Vector256.Create(0x7FFFu) + (Vector256.ShiftRightLogical(bits, 16) & Vector256<uint>.One), 16);
    }
}
