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

    /// <summary>The norm this layer applies to its input (the previous layer applies it, fused with its last residual add).</summary>
    internal RmsNorm InputNorm => input_layernorm;

    /// <summary>
    /// One block: <paramref name="x"/> is the residual stream and <paramref name="normed"/> it through
    /// <see cref="InputNorm"/>; returns the new stream and it through <paramref name="next"/> (the next layer's
    /// input norm, or the final norm): x + attn(norm(x)) = h, then h + mlp(norm(h)), each add fused with the norm
    /// that follows it (<see cref="RmsNorm.AddForward"/>).
    /// </summary>
    internal (Tensor Sum, Tensor Normed) Forward(Tensor x, Tensor normed, AttentionContext ctx, RotaryEmbedding rope, ILinearDelta? delta, RmsNorm next, bool kernels)
    {
        using var scope = NewDisposeScope();
        var (h, n) = post_attention_layernorm.AddForward(x, self_attn.Forward(normed, ctx, rope, delta, kernels), kernels); // [B, T, hidden]
        var (sum, nextNormed) = next.AddForward(h, mlp.Forward(n, delta), kernels);
        return (sum.MoveToOuterDisposeScope(), nextNormed.MoveToOuterDisposeScope());
    }
}
