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
    private readonly LlamaLinear[] projections; // gate, up: the products of the block's input

    public LlamaMlp(int layer, LlamaConfig c, ScalarType dtype, Device device, LinearOptions linear) : base("mlp")
    {
        gate_proj = new LlamaLinear(new(layer, LinearKind.GateProj), c.HiddenSize, c.IntermediateSize, dtype, device, linear);
        up_proj = new LlamaLinear(new(layer, LinearKind.UpProj), c.HiddenSize, c.IntermediateSize, dtype, device, linear);
        down_proj = new LlamaLinear(new(layer, LinearKind.DownProj), c.IntermediateSize, c.HiddenSize, dtype, device, linear);
        projections = [gate_proj, up_proj];
        RegisterComponents();
    }

    public IEnumerable<LlamaLinear> Linears => [gate_proj, up_proj, down_proj];

    public Tensor Forward(Tensor x, ILinearDelta? delta)
    {
        using var scope = NewDisposeScope();
        var gateUp = LlamaLinear.Forward(projections, x, delta); // one hand-off to the decode kernels when fused
        var gated = nn.functional.silu(gateUp[0]) * gateUp[1]; // [B, T, I]
        return down_proj.Forward(gated, delta).MoveToOuterDisposeScope();
    }
}
