using InferenceHost.Model.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Model.Quantization;

/// <summary>
/// y = x · Wᵀ on a frozen quantized weight, with autograd to x only (training LoRA on a quantized base: QLoRA).
/// The forward and the backward each dequantize the weight for their one product (<see cref="DecodeProducts.Dense"/>)
/// and drop it, as bitsandbytes' MatMul4Bit does: libtorch's own linear on a dequantized weight would save that
/// dense copy for the backward, so at the peak of a step every layer's dense weight would be resident at once.
/// The weight gets no gradient (it has none to get: codes and scales are not parameters).
/// </summary>
internal sealed class QuantizedLinearFunction : autograd.SingleTensorFunction<QuantizedLinearFunction>
{
    private const string WeightKey = "weight";

    public override string Name => nameof(QuantizedLinearFunction);

    /// <summary><paramref name="x"/> [..., in] times the weight [out, in] transposed: [..., out] in x's dtype.</summary>
    public static Tensor Apply(Tensor x, QuantizedWeight weight) => apply(x, weight);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (x, weight) = ((Tensor)vars[0], (QuantizedWeight)vars[1]);
        ctx.save_data(WeightKey, weight);
        using var dense = DecodeProducts.Dense(weight, x.dtype); // [out, in]
        return nn.functional.linear(x, dense); // [..., out]
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var weight = (QuantizedWeight)ctx.get_data(WeightKey);
        using var dense = DecodeProducts.Dense(weight, gradOutput.dtype); // [out, in]
        // dL/dx = dL/dy · W [..., in]; the weight (not a tensor input) has no gradient slot to fill.
        return [gradOutput.matmul(dense), null!];
    }
}
