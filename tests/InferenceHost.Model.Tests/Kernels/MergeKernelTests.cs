using InferenceHost.Model.Kernels;
using static TorchSharp.torch;

namespace InferenceHost.Model.Tests.Kernels;

/// <summary>
/// The one-pass merge W = P + B·A. Every element, whichever path wrote it (32-column Vector512 tiles, 16-column
/// Vector256 tiles, the scalar tail, the single rows of a block that is not full), is the same float32 sum:
/// P widened, then one fused multiply-add per rank in order, rounded once to the dtype. So the kernel must equal
/// a scalar C# reference of that sum bit for bit, at sizes that leave every tail (columns 1, 15, 37, 50, 100;
/// rows 1-9; ranks 1, 3, 16, 65); and libtorch's own P + B·A within the reordering bound.
/// </summary>
public sealed class MergeKernelTests
{
    [Theory]
    [InlineData("float32")]
    [InlineData("bfloat16")]
    public void Every_element_equals_the_ordered_float32_sum_and_libtorch_within_rounding(string dtypeName)
    {
        using var scope = NewDisposeScope();
        var dtype = dtypeName == "float32" ? ScalarType.Float32 : ScalarType.BFloat16;
        manual_seed(5);
        foreach (var (rows, cols, rank) in new[] { (1, 1, 1), (3, 15, 3), (4, 37, 16), (9, 50, 65), (5, 100, 3), (130, 96, 16), (7, 33, 8), (301, 260, 8) })
        {
            var p = (randn(rows, cols) * 0.05).to(dtype);
            var a = randn(rank, cols) * 0.1;
            var b = randn(rows, rank) * 0.1;
            var w = full(rows, cols, 123.0, dtype); // every element must be overwritten
            MergeKernel.Merge(w, p, a, b);

            var expected = Reference(p.to(ScalarType.Float32), a, b, dtype);
            var got = w.to(ScalarType.Float32).data<float>().ToArray();
            for (var i = 0; i < got.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(got[i]),
                    $"{dtypeName} {rows}x{cols} rank {rank}: element {i} (row {i / cols}, column {i % cols}) is {got[i]}, the ordered sum is {expected[i]}");
            }

            var torchSum = p.to(ScalarType.Float32) + b.matmul(a);
            var tolerance = dtype == ScalarType.BFloat16 ? torchSum.abs() * (1.0 / 128) + 1e-6 : torchSum.abs() * 1e-5 + 1e-6;
            Assert.True((w.to(ScalarType.Float32) - torchSum).abs().le(tolerance).all().item<bool>(), $"{dtypeName} {rows}x{cols} rank {rank}: differs from libtorch's P + B·A beyond rounding");
        }
    }

    [Fact]
    public void Operands_of_the_wrong_shape_dtype_or_layout_are_refused()
    {
        using var scope = NewDisposeScope();
        var w = zeros(8, 16);
        Assert.Throws<ArgumentException>(() => MergeKernel.Merge(w, zeros(8, 15), zeros(2, 16), zeros(8, 2)));
        Assert.Throws<ArgumentException>(() => MergeKernel.Merge(w, zeros(8, 16, ScalarType.BFloat16), zeros(2, 16), zeros(8, 2)));
        Assert.Throws<ArgumentException>(() => MergeKernel.Merge(w, zeros(8, 16), zeros(2, 16), zeros(8, 3)));
        Assert.Throws<ArgumentException>(() => MergeKernel.Merge(w, zeros(8, 16), zeros(16, 2).t(), zeros(8, 2)));
        Assert.False(MergeKernel.Supports(zeros(16, 8).t()));
        Assert.False(MergeKernel.Supports(zeros(8, 16, ScalarType.Float16)));
    }

    private static float[] Reference(Tensor p, Tensor a, Tensor b, ScalarType dtype)
    {
        var (rows, cols, rank) = ((int)p.shape[0], (int)p.shape[1], (int)a.shape[0]);
        var (pv, av, bv) = (p.data<float>().ToArray(), a.data<float>().ToArray(), b.data<float>().ToArray());
        var result = new float[rows * cols];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < cols; j++)
            {
                var acc = pv[(i * cols) + j];
                for (var r = 0; r < rank; r++)
                {
                    acc = MathF.FusedMultiplyAdd(av[(r * cols) + j], bv[(i * rank) + r], acc);
                }

                result[(i * cols) + j] = dtype == ScalarType.BFloat16 ? RoundToBf16(acc) : acc;
            }
        }

        return result;
    }

    /// <summary>Round to nearest even at bfloat16, back as float32 (an independent spelling of the rule).</summary>
    private static float RoundToBf16(float x)
    {
        var bits = BitConverter.SingleToUInt32Bits(x);
        var keep = bits >> 16;
        var rest = bits & 0xFFFF;
        if (rest > 0x8000 || (rest == 0x8000 && (keep & 1) == 1))
        {
            keep++;
        }

        return BitConverter.UInt32BitsToSingle(keep << 16);
    }
}
