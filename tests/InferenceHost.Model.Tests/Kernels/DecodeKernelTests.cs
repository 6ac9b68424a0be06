using InferenceHost.Model.Kernels;
using InferenceHost.Model.Llama;
using InferenceHost.Model.Quantization;
using static TorchSharp.torch;

namespace InferenceHost.Model.Tests.Kernels;

/// <summary>
/// Every decode kernel, on every instruction set this machine runs (Vector512 runs emulated where it is not
/// accelerated), equals a reference product: libtorch's float32 linear on the weight the kernel reads
/// (the dense weight widened to float32, or the quantized weight dequantized by libtorch ops, which is an
/// independent decoder of the same storage). Tolerance: 1e-4 · Σᵢ|xᵢ·wᵢ| + 1e-6 per output, the bound on
/// reordering a float32 sum of n ≤ 1000 terms (γₙ ≈ n·2⁻²⁴ ≈ 6e-5) — the kernels sum in another order than
/// libtorch, never in lower precision. Sizes include in-features that fill no vector (37) and leave a tail
/// after 16 and 32 (200, 1000), output counts that do not split evenly across threads, and m = 1..9 rows
/// (the row blocks of 4 with remainders 1, 2, 3).
/// </summary>
public sealed class DecodeKernelTests
{
    public static TheoryData<string> Formats => new() { "float32", "bfloat16", "int8-32", "int8-64", "int8-128", "nf4-64", "nf4-32" };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Every_isa_and_row_count_matches_the_reference_product(string format)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        foreach (var (inF, outF) in new[] { (37, 19), (64, 33), (200, 129), (1000, 47) })
        {
            var w = randn(outF, inF) * 0.05; // [out, in]
            using var stored = Store(format, w, out var reference); // reference: [out, in] float32, what the kernel must read
            foreach (var isa in Enum.GetValues<KernelIsa>().Where(i => DecodeKernels.Supports(i, stored.Job.Format)))
            {
                if (stored.Quantized is not null)
                {
                    var unpacked = DecodeProducts.Unpack(stored.Job, ScalarType.Float32, isa);
                    Assert.True(unpacked.equal(reference).all().item<bool>(), $"{format} {isa}: unpacked weight differs from libtorch's dequantization");
                }

                for (var m = 1; m <= 9; m++)
                {
                    var x = randn(m, inF); // [m, in]
                    var y = DecodeProducts.Run(x, stored.Job, isa); // [m, out]
                    var expected = nn.functional.linear(x, reference);
                    var bound = nn.functional.linear(x.abs(), reference.abs()) * 1e-4 + 1e-6;
                    var excess = ((y - expected).abs() - bound).max().item<float>();
                    Assert.True(excess <= 0, $"{format} {isa} [{m}x{inF}]·[{outF}x{inF}]ᵀ: error exceeds the bound by {excess}");
                }
            }
        }
    }

    [Fact]
    public void Leading_dimensions_are_kept_and_bfloat16_activations_come_back_in_bfloat16()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var w = (randn(70, 96) * 0.1).to_type(ScalarType.BFloat16);
        var x = randn(2, 3, 96).to_type(ScalarType.BFloat16); // [B, T, in]: 6 rows
        var y = DecodeProducts.Linear(x, w);
        Assert.Equal(new long[] { 2, 3, 70 }, y.shape);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        var expected = nn.functional.linear(x.to_type(ScalarType.Float32), w.to_type(ScalarType.Float32)).to_type(ScalarType.BFloat16);
        // Both round a float32 sum to bfloat16: at most one bfloat16 step (2⁻⁸ relative) apart.
        var diff = (y.to_type(ScalarType.Float32) - expected.to_type(ScalarType.Float32)).abs();
        var step = expected.to_type(ScalarType.Float32).abs() * (1.0 / 128) + 1e-6;
        Assert.True((diff - step).max().item<float>() <= 0, "bfloat16 products differ by more than one rounding step");
    }

    [Fact]
    public void Products_from_many_threads_at_once_are_each_correct()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        var w = randn(640, 256) * 0.05;
        var xs = Enumerable.Range(0, 8).Select(_ => randn(3, 256)).ToArray();
        var expected = xs.Select(x => nn.functional.linear(x, w)).ToArray();
        var failures = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            for (var k = 0; k < 50; k++)
            {
                using var y = DecodeProducts.Linear(xs[i], w);
                if ((y - expected[i]).abs().max().item<float>() > 1e-4)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });
        Assert.Equal(0, failures);
    }

    [Fact]
    public void The_kernels_refuse_operands_they_cannot_read()
    {
        using var scope = NewDisposeScope();
        var w = randn(8, 16);
        Assert.Throws<ArgumentException>(() => DecodeProducts.Linear(randn(2, 15), w)); // feature count
        Assert.Throws<ArgumentException>(() => DecodeProducts.Linear(randn(2, 16), randn(16, 8).t())); // not contiguous
        Assert.False(DecodeProducts.Applies(randn(9, 16), 16, KernelFormat.Float32)); // 9 rows: libtorch's
        Assert.False(DecodeProducts.Applies(randn(2, 16, requires_grad: true), 16, KernelFormat.Int8)); // autograd: libtorch's
        Assert.False(DecodeProducts.Applies(randn(2, 16), 16, DecodeProducts.DenseFormat(ScalarType.Float16))); // float16 weights: libtorch's
        Assert.True(DecodeProducts.Applies(randn(1, 8, 16), 16, KernelFormat.Nf4));
    }

    [Fact]
    public void A_linear_module_gives_the_same_result_through_kernels_and_through_libtorch()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(2);
        var site = new LinearSite(0, LinearKind.UpProj);
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            var w = (randn(72, 40) * 0.1).to_type(dtype);
            using var fast = new LlamaLinear(site, 40, 72, dtype, CPU);
            using var slow = new LlamaLinear(site, 40, 72, dtype, CPU, new LinearOptions { DecodeKernels = false });
            fast.Weight.copy_(w);
            slow.Weight.copy_(w);
            foreach (var rows in new[] { 1, 5, 8, 12 })
            {
                var x = randn(1, rows, 40).to_type(dtype);
                var a = fast.Forward(x, null).to_type(ScalarType.Float32);
                var b = slow.Forward(x, null).to_type(ScalarType.Float32);
                var tolerance = dtype == ScalarType.Float32 ? 1e-5 : 2e-2; // bfloat16: one rounding step of values below 2
                Assert.True((a - b).abs().max().item<float>() <= tolerance, $"{dtype}, {rows} rows");
            }
        }
    }

    [Fact]
    public void A_trained_weight_gets_its_gradient_on_a_decode_shaped_input()
    {
        // Full fine-tuning and pre-training train the weight; an input that needs no gradient (one row, as the
        // kernels take) must still go through libtorch's autograd, or the weight silently learns nothing.
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var linear = new LlamaLinear(new LinearSite(0, LinearKind.QProj), 40, 24, ScalarType.Float32, CPU);
        linear.Weight.requires_grad_(true);
        var x = randn(1, 1, 40);

        linear.Forward(x, null).sum().backward();

        Assert.NotNull(linear.Weight.grad);
        Assert.True(linear.Weight.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void The_vector_nf4_code_book_is_the_table()
    {
        Assert.Equal(Nf4.Table, DecodeKernels.Nf4CodeBook());
        Assert.Equal(16, Nf4.Table.Distinct().Count());
        Assert.True(Nf4.Table.Zip(Nf4.Table.Skip(1)).All(p => p.First < p.Second));
    }

    /// <summary>A weight in <paramref name="format"/> with its job, and the float32 weight the kernel must read.</summary>
    internal static Stored Store(string format, Tensor w, out Tensor reference)
    {
        switch (format)
        {
            case "float32":
                reference = w;
                return new Stored(DecodeProducts.DenseJob(w), null, w);
            case "bfloat16":
                var b = w.to_type(ScalarType.BFloat16);
                reference = b.to_type(ScalarType.Float32);
                return new Stored(DecodeProducts.DenseJob(b), null, b);
            default:
                var parts = format.Split('-');
                var q = QuantizedWeight.Quantize(w, WeightQuantizationNames.Parse(parts[0]), CPU, int.Parse(parts[1]));
                reference = q.Dequantize(ScalarType.Float32);
                return new Stored(q.Job(), q, null);
        }
    }

    internal sealed record Stored(ProductJob Job, QuantizedWeight? Quantized, Tensor? Dense) : IDisposable
    {
        public void Dispose() => Quantized?.Dispose();
    }
}
