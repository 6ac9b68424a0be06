using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>A bias-free linear layer (Llama has no biases) with a hook for adapter deltas.</summary>
public sealed class LlamaLinear : nn.Module
{
#pragma warning disable IDE1006 // named as the checkpoint key
    private readonly Parameter weight; // [out, in]
#pragma warning restore IDE1006

    public LlamaLinear(LinearSite site, long inFeatures, long outFeatures, ScalarType dtype, Device device)
        : base(LinearSite.ShortName(site.Kind))
    {
        Site = site;
        weight = new Parameter(empty(outFeatures, inFeatures, dtype: dtype, device: device), requires_grad: false);
        RegisterComponents();
    }

    public LinearSite Site { get; }

    /// <summary>The weight itself (not a copy): merging adapters writes into it.</summary>
    public Tensor Weight => weight;

    public Tensor Forward(Tensor x, ILinearDelta? delta)
    {
        var y = nn.functional.linear(x, weight); // [B, T, out]
        return delta is null ? y : delta.Apply(Site, x, y);
    }
}
