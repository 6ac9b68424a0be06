using InferenceHost.Model.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>Pre-norm decoder block: x + attn(norm(x)), then + mlp(norm(·)).</summary>
public sealed class LlamaDecoderLayer : nn.Module
{
#pragma warning disable IDE1006 // named as the checkpoint keys
    private readonly LlamaAttention self_attn;
    private readonly LlamaMlp mlp;
    private readonly RmsNorm input_layernorm;
    private readonly RmsNorm post_attention_layernorm;
#pragma warning restore IDE1006

    public LlamaDecoderLayer(int layer, LlamaConfig c, ScalarType dtype, Device device, LinearOptions linear) : base($"{layer}")
    {
        self_attn = new LlamaAttention(layer, c, dtype, device, linear);
        mlp = new LlamaMlp(layer, c, dtype, device, linear);
        input_layernorm = new RmsNorm("input_layernorm", c.HiddenSize, c.RmsNormEps, dtype, device);
        post_attention_layernorm = new RmsNorm("post_attention_layernorm", c.HiddenSize, c.RmsNormEps, dtype, device);
        RegisterComponents();
    }

    public IEnumerable<LlamaLinear> Linears => self_attn.Linears.Concat(mlp.Linears);

    internal Tensor Forward(Tensor x, AttentionContext ctx, RotaryEmbedding rope, ILinearDelta? delta)
    {
        using var scope = NewDisposeScope();
        var h = x + self_attn.Forward(input_layernorm.Forward(x), ctx, rope, delta); // [B, T, hidden]
        return (h + mlp.Forward(post_attention_layernorm.Forward(h), delta)).MoveToOuterDisposeScope();
    }
}
