using InferenceHost.Model.Kernels;
using InferenceHost.Model.Llama;
using InferenceHost.Model.Quantization;
using static TorchSharp.torch;

namespace InferenceHost.Model.Tests.Quantization;

/// <summary>
/// Training on a quantized base (QLoRA): a quantized linear passes the gradient to its input, exactly what the
/// dense product with the dequantized weight would pass, on decode-shaped inputs too (one row: the kernels, which
/// have no autograd, must not take it), and the quantized storage takes no gradient.
/// </summary>
public sealed class QuantizedLinearGradientTests
{
    [Theory]
    [InlineData("int8", 1)]
    [InlineData("int8", 12)]
    [InlineData("nf4", 1)]
    [InlineData("nf4", 12)]
    public void The_input_gets_the_gradient_of_the_dequantized_product_and_the_codes_get_none(string format, int rows)
    {
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator(7);
        // 72 in-features: a group of 64 and a zero-padded one.
        using var linear = new LlamaLinear(new LinearSite(0, LinearKind.UpProj), 72, 40, ScalarType.Float32, CPU,
            new LinearOptions { Quantization = WeightQuantizationNames.Parse(format) });
        linear.LoadWeight(randn([40, 72], generator: generator));
        var q = linear.Quantized!;
        var reference = q.Dequantize(ScalarType.Float32); // [out, in]
        var x = randn([1, rows, 72], generator: generator).requires_grad_(true); // [B, T, in]
        var upstream = randn([1, rows, 40], generator: generator); // dL/dy

        var y = linear.Forward(x, null); // [B, T, out]
        (y * upstream).sum().backward();

        Assert.True(y.requires_grad);
        var expected = upstream.matmul(reference); // dL/dx = dL/dy · W
        Assert.True((x.grad! - expected).abs().max().item<float>() < 1e-5, $"{format}, {rows} rows: the input's gradient is not dL/dy · W");
        Assert.True((y - nn.functional.linear(x.detach(), reference)).abs().max().item<float>() < 1e-5);
        Assert.False(q.Data.requires_grad || q.Scales.requires_grad);
        Assert.True(q.Data.grad is null && q.Scales.grad is null);
    }
}
