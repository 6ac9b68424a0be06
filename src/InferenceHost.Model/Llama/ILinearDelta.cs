using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>
/// Something that adds to the output of the model's linear modules: the unmerged LoRA kernel at
/// inference, trainable LoRA matrices in the trainer. The model calls it after every base product;
/// it knows nothing of adapters itself.
/// </summary>
public interface ILinearDelta
{
    /// <summary>
    /// Returns <paramref name="y"/> (= x·Wᵀ, [B, T, out]) plus this delta's contribution for
    /// <paramref name="x"/> ([B, T, in]) at <paramref name="site"/>; returns <paramref name="y"/> itself
    /// when it has nothing for that site.
    /// </summary>
    Tensor Apply(LinearSite site, Tensor x, Tensor y);
}
