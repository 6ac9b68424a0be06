using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace InferenceHost.Model.Kernels;

/// <summary>
/// The per-row steps of a decode step that libtorch runs as a dozen small operations each, in one pass over
/// the tensors' own memory: the residual add with the RMSNorm after it (vLLM's <c>fused_add_rms_norm</c>) and
/// the rotary embedding. They round where Hugging Face's modules do (the residual add and the norm's output in
/// the compute dtype, the norm and the rotation in float32), so they agree with the libtorch path: the rotation
/// bit for bit (the same float32 operations in the same order), the norm to the last bit of float32 but for the
/// order of its sum of squares. Only for what decode runs: CPU, no autograd, float32 or bfloat16, a few rows.
/// </summary>
public static unsafe class RowKernels
{
    /// <summary>Rows up to which the kernels take a step (decode, small batches); more (prefill) stays with libtorch.</summary>
    public const int MaxRows = 64;

    /// <summary>Whether the kernels take <paramref name="x"/> (and, when given, the tensors beside it).</summary>
    public static bool Applies(Tensor x, params ReadOnlySpan<Tensor?> others)
    {
        if (x.device_type != TorchSharp.DeviceType.CPU || x.requires_grad || x.dtype is not (ScalarType.Float32 or ScalarType.BFloat16)
            || !x.is_contiguous() || x.NumberOfElements / Math.Max(1, x.shape[^1]) > MaxRows)
        {
            return false;
        }

        foreach (var o in others)
        {
            if (o is not null && (o.requires_grad || o.dtype != x.dtype || o.device_type != TorchSharp.DeviceType.CPU || !o.is_contiguous()))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// <c>h = x + delta</c> (rounded to the dtype, as libtorch's add) when <paramref name="delta"/> is given,
    /// else <c>h = x</c>; then <c>weight · dtype(h_f32 · rsqrt(mean(h_f32²) + eps))</c>. Returns (h, normed); h is
    /// <paramref name="x"/> itself when there is no delta.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (Tensor Sum, Tensor Normed) AddRmsNorm(Tensor x, Tensor? delta, Tensor weight, double eps)
    {
        var hidden = (int)x.shape[^1];
        var rows = (int)(x.NumberOfElements / hidden);
        var sum = delta is null ? x : empty_like(x);
        var normed = empty_like(x);
        if (x.dtype == ScalarType.Float32)
        {
            NormRows<float>(x, delta, sum, normed, weight, rows, hidden, (float)eps);
        }
        else
        {
            NormRows<ushort>(x, delta, sum, normed, weight, rows, hidden, (float)eps);
        }

        return (sum, normed);
    }

    /// <summary>
    /// Rotate-half RoPE of <paramref name="x"/> [rows, heads, D] at <paramref name="positions"/> [rows] (int64) with
    /// the float32 tables [maxPositions, D]: <c>dtype(x·cos + rotate_half(x)·sin)</c>, each product and the sum
    /// rounded to float32 as libtorch's three operations round them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Tensor Rope(Tensor x, Tensor positions, Tensor cos, Tensor sin)
    {
        var d = (int)x.shape[^1];
        var heads = (int)x.shape[^2];
        var rows = (int)(x.NumberOfElements / (heads * d));
        var y = empty_like(x);
        var pos = (long*)TensorMemory.Pointer(positions, ScalarType.Int64);
        var pc = (float*)TensorMemory.Pointer(cos, ScalarType.Float32);
        var ps = (float*)TensorMemory.Pointer(sin, ScalarType.Float32);
        var limit = cos.shape[0];
        var bf16 = x.dtype == ScalarType.BFloat16;
        var px = TensorMemory.Pointer(x, x.dtype);
        var py = TensorMemory.Pointer(y, x.dtype);
        for (var r = 0; r < rows; r++)
        {
            var p = pos[r];
            if ((ulong)p >= (ulong)limit)
            {
                throw new ArgumentOutOfRangeException(nameof(positions), p, $"position outside the rotary tables (0..{limit - 1})");
            }

            for (var h = 0; h < heads; h++)
            {
                var o = ((long)r * heads + h) * d;
                if (bf16)
                {
                    RopeHead((ushort*)px + o, (ushort*)py + o, pc + (p * d), ps + (p * d), d);
                }
                else
                {
                    RopeHead((float*)px + o, (float*)py + o, pc + (p * d), ps + (p * d), d);
                }
            }
        }

        return y;
    }

    // One head: out[i] = x[i]·c[i] + (−x[i+half])·s[i], out[i+half] = x[i+half]·c[i+half] + x[i]·s[i+half], each
    // product and sum rounded to float32 (vector lanes round exactly as scalars), then stored in x's dtype.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RopeHead<T>(T* x, T* y, float* c, float* s, int d)
        where T : unmanaged
    {
        var half = d / 2;
        var i = 0;
        for (; i + 8 <= half; i += 8)
        {
            var x1 = Load8(x + i);
            var x2 = Load8(x + i + half);
            Store8((x1 * Vector256.Load(c + i)) + (-x2 * Vector256.Load(s + i)), y + i);
            Store8((x2 * Vector256.Load(c + i + half)) + (x1 * Vector256.Load(s + i + half)), y + i + half);
        }

        for (; i < half; i++)
        {
            float x1 = Get(x, i), x2 = Get(x, i + half);
            Set(y, i, (x1 * c[i]) + (-x2 * s[i]));
            Set(y, i + half, (x2 * c[i + half]) + (x1 * s[i + half]));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load8<T>(T* p)
        where T : unmanaged => typeof(T) == typeof(ushort) ? Widen8((ushort*)p) : Vector256.Load((float*)p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8<T>(Vector256<float> v, T* p)
        where T : unmanaged
    {
        if (typeof(T) == typeof(ushort))
        {
            Narrow8(v, (ushort*)p);
        }
        else
        {
            v.Store((float*)p);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Get<T>(T* p, int i)
        where T : unmanaged => typeof(T) == typeof(ushort) ? Bf16ToFloat(((ushort*)p)[i]) : ((float*)p)[i];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Set<T>(T* p, int i, float v)
        where T : unmanaged
    {
        if (typeof(T) == typeof(ushort))
        {
            ((ushort*)p)[i] = FloatToBf16(v);
        }
        else
        {
            ((float*)p)[i] = v;
        }
    }

    /// <summary>The rows of <see cref="AddRmsNorm"/> in x's element type (float32, or bfloat16 as ushort).</summary>
    private static void NormRows<T>(Tensor x, Tensor? delta, Tensor sum, Tensor normed, Tensor weight, int rows, int hidden, float eps)
        where T : unmanaged
    {
        var px = (T*)TensorMemory.Pointer(x, x.dtype);
        var pd = delta is null ? null : (T*)TensorMemory.Pointer(delta, x.dtype);
        var ph = (T*)TensorMemory.Pointer(sum, x.dtype);
        var pn = (T*)TensorMemory.Pointer(normed, x.dtype);
        var pw = (T*)TensorMemory.Pointer(weight, x.dtype);
        for (var r = 0; r < rows; r++)
        {
            var o = (long)r * hidden;
            NormRow(px + o, pd is null ? null : pd + o, ph + o, pn + o, pw, hidden, eps);
        }
    }

    // One row: h = x (+ delta, stored in the dtype), sum of h² in float32, then weight · dtype(h · rsqrt(mean + eps))
    // in the dtype. For bfloat16 every value is rounded where a bfloat16 tensor would store it (Round); for float32
    // rounding is the identity.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NormRow<T>(T* x, T* delta, T* sum, T* normed, T* w, int n, float eps)
        where T : unmanaged
    {
        var acc = Vector256<float>.Zero;
        var i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var h = Load8(x + i);
            if (delta != null)
            {
                h = Round<T>(h + Load8(delta + i)); // the add in the dtype: rounded before the norm reads it
                Store8(h, sum + i);
            }

            acc += h * h;
        }

        var ss = Vector256.Sum(acc);
        for (; i < n; i++)
        {
            var h = Get(x, i);
            if (delta != null)
            {
                Set(sum, i, h + Get(delta, i));
                h = Get(sum, i);
            }

            ss += h * h;
        }

        var r = 1f / MathF.Sqrt((ss / n) + eps);
        var rv = Vector256.Create(r);
        var src = delta != null ? sum : x;
        i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var scaled = Round<T>(Load8(src + i) * rv); // .to(dtype) of the float32 norm
            Store8(Load8(w + i) * scaled, normed + i); // weight · it, in the dtype
        }

        for (; i < n; i++)
        {
            Set(normed, i, Get(w, i) * RoundScalar<T>(Get(src, i) * r));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Round<T>(Vector256<float> v)
        where T : unmanaged => typeof(T) == typeof(ushort) ? Round8(v) : v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float RoundScalar<T>(float v)
        where T : unmanaged => typeof(T) == typeof(ushort) ? Bf16ToFloat(FloatToBf16(v)) : v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen8(ushort* p) =>
        Vector256.ShiftLeft(Vector256.WidenLower(Vector256.Create(Vector128.Load(p), default)), 16).AsSingle();

    /// <summary>Float32 lanes rounded to bfloat16 (nearest even, NaN kept NaN) and back: the value a bfloat16 tensor stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Round8(Vector256<float> v)
    {
        var bits = v.AsUInt32();
        var rounded = (bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256.Create(1u))) & Vector256.Create(0xFFFF0000u);
        var nan = ~Vector256.Equals(v, v).AsUInt32();
        return Vector256.ConditionalSelect(nan, Vector256.Create(0x7FC00000u), rounded).AsSingle();
    }

    /// <summary>Stores lanes already rounded by <see cref="Round8"/> (or rounds them) as bfloat16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Narrow8(Vector256<float> v, ushort* p)
    {
        var r = Round8(v).AsUInt32() >> 16;
        Vector128.Narrow(r.GetLower(), r.GetUpper()).Store(p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Bf16ToFloat(ushort b) => BitConverter.Int32BitsToSingle(b << 16);

    /// <summary>c10's round_to_nearest_even: what libtorch stores when a float32 result becomes bfloat16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ushort FloatToBf16(float f)
    {
        if (float.IsNaN(f))
        {
            return 0x7FC0;
        }

        var u = BitConverter.SingleToUInt32Bits(f);
        return (ushort)((u + 0x7FFFu + ((u >> 16) & 1)) >> 16);
    }
}
