using InferenceHost.Model.Kernels;
using InferenceHost.Model.Llama;
using InferenceHost.Model.Quantization;
using static TorchSharp.torch;

namespace InferenceHost.Model.Tests.Quantization;

/// <summary>Quantize → dequantize round trips, the formats' error bounds, and the names Model:Quantization accepts.</summary>
public sealed class QuantizedWeightTests
{
    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(128)]
    public void Int8_is_exact_on_its_own_grid_and_within_half_a_step_elsewhere(int group)
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var (outF, inF) = (9, (2 * group) + 5); // a padded last group
        // On the grid: integers times a per-group step, each group's largest |value| exactly 127 steps.
        var steps = rand(outF, (inF + group - 1) / group) + 0.01; // [out, G]
        var ints = randint(-127, 128, [outF, inF]).to_type(ScalarType.Float32);
        ints[TensorIndex.Colon, TensorIndex.Slice(0, inF, group)] = full(outF, (inF + group - 1) / group, 127f);
        var onGrid = ints * steps.repeat_interleave(group, 1).narrow(1, 0, inF);
        using (var q = QuantizedWeight.Quantize(onGrid, WeightQuantization.Int8, CPU, group))
        {
            Assert.True((q.Dequantize(ScalarType.Float32) - onGrid).abs().max().item<float>() <= 1e-6f * onGrid.abs().max().item<float>());
        }

        var w = randn(outF, inF);
        using var r = QuantizedWeight.Quantize(w, WeightQuantization.Int8, CPU, group);
        var absmax = nn.functional.pad(w.abs(), [0, r.PaddedIn - inF]).view(outF, -1, group).amax([2]); // [out, G]
        var halfStep = (absmax / 254.0).repeat_interleave(group, 1).narrow(1, 0, inF) * (1 + 1e-5);
        Assert.True(((r.Dequantize(ScalarType.Float32) - w).abs() - halfStep).max().item<float>() <= 0, "an int8 value is further than half a step from its weight");
        Assert.Equal(outF * r.PaddedIn + (outF * r.Scales.shape[1] * 4), r.Bytes);
    }

    [Fact]
    public void Nf4_picks_the_nearest_code_and_is_exact_on_the_code_book()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var (outF, inF) = (7, 150);
        var w = randn(outF, inF);
        using var q = QuantizedWeight.Quantize(w, WeightQuantization.Nf4, CPU, 64);
        var absmax = nn.functional.pad(w.abs(), [0, q.PaddedIn - inF]).view(outF, -1, 64).amax([2]).repeat_interleave(64, 1).narrow(1, 0, inF); // [out, in]
        var table = tensor(Nf4.Table);
        var normalized = w / absmax;
        var chosen = q.Dequantize(ScalarType.Float32) / absmax;
        var best = (normalized.unsqueeze(2) - table).abs().amin([2]); // distance to the nearest code
        Assert.True(((normalized - chosen).abs() - best).max().item<float>() <= 1e-5, "a weight did not get its nearest NF4 code");

        // Weights that are code-book values times a block's absmax come back exactly.
        var codes = randint(0, 16, [outF, 128]);
        codes[TensorIndex.Colon, 0] = full(outF, 15L); // +1: each block's absmax is its scale
        codes[TensorIndex.Colon, 64] = full(outF, 15L);
        var scales = (rand(outF, 2) + 0.5).repeat_interleave(64, 1);
        var exact = table.index_select(0, codes.flatten()).view(outF, 128) * scales;
        using var e = QuantizedWeight.Quantize(exact, WeightQuantization.Nf4, CPU, 64);
        Assert.True(e.Dequantize(ScalarType.Float32).equal(exact).all().item<bool>());
        Assert.Equal(outF * 64 + (outF * 2 * 4), e.Bytes); // half a byte per weight plus one float32 per 64
    }

    [Theory]
    [InlineData("int8")]
    [InlineData("nf4")]
    public void Zero_rows_stay_zero_and_bad_input_is_refused(string format)
    {
        using var scope = NewDisposeScope();
        var f = WeightQuantizationNames.Parse(format);
        var w = randn(4, 64);
        w[1] = zeros(64);
        using (var q = QuantizedWeight.Quantize(w, f, CPU))
        {
            var d = q.Dequantize(ScalarType.Float32);
            Assert.True(d[1].eq(0).all().item<bool>());
            Assert.True(d.isfinite().all().item<bool>());
        }

        w[2, 3] = float.NaN;
        Assert.Contains("non-finite", Assert.Throws<ArgumentException>(() => QuantizedWeight.Quantize(w, f, CPU)).Message);
        Assert.Contains("group size 48", Assert.Throws<ArgumentException>(() => QuantizedWeight.Quantize(randn(2, 64), f, CPU, 48)).Message);
        Assert.Throws<ArgumentException>(() => QuantizedWeight.Quantize(randn(64), f, CPU));
        Assert.Throws<ArgumentException>(() => QuantizedWeight.Quantize(randn(2, 64), WeightQuantization.None, CPU));
    }

    [Theory]
    [InlineData("none", WeightQuantization.None)]
    [InlineData("int8", WeightQuantization.Int8)]
    [InlineData("NF4", WeightQuantization.Nf4)]
    [InlineData(" nf4 ", WeightQuantization.Nf4)]
    public void Quantization_names_parse(string text, WeightQuantization expected)
    {
        Assert.True(WeightQuantizationNames.TryParse(text, out var q));
        Assert.Equal(expected, q);
    }

    [Theory]
    [InlineData("int4")]
    [InlineData("fp8")]
    [InlineData("")]
    [InlineData(null)]
    public void Other_quantization_names_are_refused_naming_the_choices(string? text)
    {
        Assert.False(WeightQuantizationNames.TryParse(text, out _));
        var e = Assert.Throws<ArgumentException>(() => WeightQuantizationNames.Parse(text, "Model:Quantization"));
        Assert.Contains("Model:Quantization", e.Message);
        Assert.Contains("none, int8, nf4", e.Message);
    }

    [Theory]
    [InlineData("int8")]
    [InlineData("nf4")]
    public void A_quantized_module_agrees_between_its_kernel_and_its_unpack_then_libtorch_paths(string format)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(9);
        var site = new LinearSite(0, LinearKind.DownProj);
        var options = new LinearOptions { Quantization = WeightQuantizationNames.Parse(format) };
        using var linear = new LlamaLinear(site, 200, 72, ScalarType.Float32, CPU, options);
        Assert.Throws<InvalidOperationException>(() => linear.Forward(randn(1, 1, 200), null)); // never loaded
        linear.LoadWeight(randn(72, 200) * 0.05);
        Assert.Contains("Model:Quantization", Assert.Throws<InvalidOperationException>(() => linear.Weight).Message);
        Assert.Equal(linear.Quantized!.Bytes, linear.ResidentBytes);
        var reference = linear.Quantized.Dequantize(ScalarType.Float32); // libtorch ops
        var x = randn(1, 12, 200); // [B, T, in]
        var all = linear.Forward(x, null); // 12 rows: unpack, then libtorch
        var few = linear.Forward(x.narrow(1, 0, DecodeProducts.MaxRows(linear.Quantized.KernelFormat)), null); // the kernel
        var expected = nn.functional.linear(x, reference);
        Assert.True((all - expected).abs().max().item<float>() < 1e-5);
        Assert.True((few - expected.narrow(1, 0, few.shape[1])).abs().max().item<float>() < 1e-5);
    }
}
