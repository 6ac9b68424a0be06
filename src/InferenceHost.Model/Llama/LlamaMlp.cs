using InferenceHost.Model.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>SwiGLU feed-forward: down(silu(gate(x)) * up(x)).</summary>
public sealed class LlamaMlp : nn.Module
{
#pragma warning disable IDE1006 // named as the checkpoint keys
    private readonly LlamaLinear gate_proj;
    private readonly LlamaLinear up_proj;
    private readonly LlamaLinear down_proj;
#pragma warning restore IDE1006

    public LlamaMlp(int layer, LlamaConfig c, ScalarType dtype, Device device, LinearOptions linear) : base("mlp")
    {
        gate_proj = new LlamaLinear(new(layer, LinearKind.GateProj), c.HiddenSize, c.IntermediateSize, dtype, device, linear);
        up_proj = new LlamaLinear(new(layer, LinearKind.UpProj), c.HiddenSize, c.IntermediateSize, dtype, device, linear);
        down_proj = new LlamaLinear(new(layer, LinearKind.DownProj), c.IntermediateSize, c.HiddenSize, dtype, device, linear);
        RegisterComponents();
    }

    public IEnumerable<LlamaLinear> Linears => [gate_proj, up_proj, down_proj];

    public Tensor Forward(Tensor x, ILinearDelta? delta)
    {
        using var scope = NewDisposeScope();
        var gated = nn.functional.silu(gate_proj.Forward(x, delta)) * up_proj.Forward(x, delta); // [B, T, I]
        return down_proj.Forward(gated, delta).MoveToOuterDisposeScope();
    }
}
