using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Kernels;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Model.Tests.Kernels;

/// <summary>
/// The decode step's row kernels against the libtorch operations they replace (the modules' own code, with the
/// kernels off). The rotation is the same float32 arithmetic in the same order: equal bit for bit. The residual
/// add is exact in float32 and rounded once in bfloat16 by both: equal bit for bit. The norm sums its squares in
/// another order than libtorch's reduction: float32 within a few ulps; bfloat16 the same values but for the
/// rare element whose float32 result lies within that error of a rounding boundary (one bfloat16 step at most).
/// Hidden sizes include ones that fill no vector (5) and leave a tail (67).
/// </summary>
public sealed class RowKernelTests
{
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Residual_add_and_norm_match_libtorch(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (var seed = 0; seed < 8; seed++)
        {
            using var g = new Generator((ulong)seed, CPU); // the test's own generator: other test classes draw from the global one in parallel
            foreach (var hidden in new[] { 5, 64, 67, 2048 })
            {
                using var norm = new RmsNorm("norm", hidden, 1e-5, dtype, CPU);
                norm.parameters().Single().copy_((rand(hidden, generator: g) + 0.5).to_type(dtype));
                foreach (var rows in new[] { 1, 3 })
                {
                    var x = (randn([1, rows, hidden], generator: g) * 3).to_type(dtype);
                    var delta = randn([1, rows, hidden], generator: g).to_type(dtype);
                    foreach (var d in new[] { delta, null })
                    {
                        var (sum, normed) = norm.AddForward(x, d, kernels: true);
                        var (refSum, refNormed) = norm.AddForward(x, d, kernels: false);
                        var what = $"{dtype} seed {seed} hidden {hidden} rows {rows}{(d is null ? " (no add)" : "")}";
                        Assert.True(sum.eq(refSum).all().item<bool>(), $"{what}: the residual add differs");
                        var got = normed.to_type(ScalarType.Float32);
                        var want = refNormed.to_type(ScalarType.Float32);
                        var diff = (got - want).abs();
                        if (dtype == ScalarType.Float32)
                        {
                            // rsqrt of a reordered sum, then two products: a few ulps (2⁻²³ relative each)
                            Assert.True((diff <= want.abs() * 1e-6 + 1e-30).all().item<bool>(), $"{what}: {diff.max().item<float>()}");
                        }
                        else
                        {
                            // a float32 result within those ulps of a rounding boundary rounds the other way (one bfloat16
                            // step), and the weight's product after it may round the other way again: two steps at most
                            var steps = want.abs() * (2.0 / 128);
                            Assert.True((diff <= steps + 1e-30).all().item<bool>(), $"{what}: {diff.max().item<float>()}");
                            Assert.True(diff.gt(0).sum().item<long>() <= Math.Max(2, rows * hidden / 50), $"{what}: {diff.gt(0).sum().item<long>()} elements differ");
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Rotation_matches_libtorch_bit_for_bit(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(6);
        foreach (var (heads, headDim) in new[] { (2, 8), (4, 64), (3, 6) })
        {
            var config = new LlamaConfig { HiddenSize = heads * headDim, NumAttentionHeads = heads, NumKeyValueHeads = heads, IntermediateSize = 8, NumHiddenLayers = 1, VocabSize = 8 };
            using var rope = new RotaryEmbedding(config, 300, CPU);
            var x = (randn(2, 3, heads, headDim) * 4).to_type(dtype);
            var positions = randint(0, 300, [2, 3], dtype: ScalarType.Int64);
            var fast = rope.Apply(x, positions, kernels: true);
            var slow = rope.Apply(x, positions, kernels: false);
            Assert.True(fast.eq(slow).all().item<bool>(), $"{dtype}, {heads}×{headDim}");
        }
    }

    [Fact]
    public void Training_prefill_and_other_dtypes_stay_with_libtorch()
    {
        using var scope = NewDisposeScope();
        var x = randn(1, 1, 16);
        Assert.True(RowKernels.Applies(x));
        Assert.False(RowKernels.Applies(x.clone().requires_grad_(true)), "autograd");
        Assert.False(RowKernels.Applies(x, ones(16).requires_grad_(true)), "a trained norm weight");
        Assert.False(RowKernels.Applies(randn(1, RowKernels.MaxRows + 1, 16)), "prefill-sized");
        Assert.False(RowKernels.Applies(x.to_type(ScalarType.Float16)), "float16");
        Assert.False(RowKernels.Applies(randn(16, 2).t()), "not contiguous");
        Assert.False(RowKernels.Applies(x, ones(16, dtype: ScalarType.BFloat16)), "mixed dtypes");
    }

    [Fact]
    public void A_position_outside_the_tables_is_refused()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentOutOfRangeException>(() => RowKernels.Rope(randn(1, 1, 1, 8), tensor(new long[] { 4 }).view(1, 1), ones(4, 8), ones(4, 8)));
    }
}
