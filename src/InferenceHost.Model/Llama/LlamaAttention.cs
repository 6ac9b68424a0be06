using InferenceHost.Model.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>Grouped-query self-attention with rotary positions and a preallocated KV cache.</summary>
public sealed class LlamaAttention : nn.Module
{
#pragma warning disable IDE1006 // named as the checkpoint keys
    private readonly LlamaLinear q_proj;
    private readonly LlamaLinear k_proj;
    private readonly LlamaLinear v_proj;
    private readonly LlamaLinear o_proj;
#pragma warning restore IDE1006
    private readonly int layer;
    private readonly long heads;
    private readonly long kvHeads;
    private readonly long headDim;
    private readonly LlamaLinear[] projections; // q, k, v: the products of the layer's input

    public LlamaAttention(int layer, LlamaConfig c, ScalarType dtype, Device device, LinearOptions linear) : base("self_attn")
    {
        this.layer = layer;
        heads = c.NumAttentionHeads;
        kvHeads = c.NumKeyValueHeads;
        headDim = c.HeadDim;
        q_proj = new LlamaLinear(new(layer, LinearKind.QProj), c.HiddenSize, heads * headDim, dtype, device, linear);
        k_proj = new LlamaLinear(new(layer, LinearKind.KProj), c.HiddenSize, kvHeads * headDim, dtype, device, linear);
        v_proj = new LlamaLinear(new(layer, LinearKind.VProj), c.HiddenSize, kvHeads * headDim, dtype, device, linear);
        o_proj = new LlamaLinear(new(layer, LinearKind.OProj), heads * headDim, c.HiddenSize, dtype, device, linear);
        projections = [q_proj, k_proj, v_proj];
        RegisterComponents();
    }

    public IEnumerable<LlamaLinear> Linears => [q_proj, k_proj, v_proj, o_proj];

    internal Tensor Forward(Tensor x, AttentionContext ctx, RotaryEmbedding rope, ILinearDelta? delta, bool kernels)
    {
        using var scope = NewDisposeScope();
        var (b, t) = (x.shape[0], x.shape[1]);
        var groups = heads / kvHeads;
        var qkv = LlamaLinear.Forward(projections, x, delta); // one hand-off to the decode kernels when fused
        var q = qkv[0].view(b, t, heads, headDim); // [B, T, H, D]
        var k = qkv[1].view(b, t, kvHeads, headDim); // [B, T, KV, D]
        var v = qkv[2].view(b, t, kvHeads, headDim); // [B, T, KV, D]
        q = rope.Apply(q, ctx.Positions, kernels);
        k = rope.Apply(k, ctx.Positions, kernels);

        Tensor keys, values; // [B, KV, Lk, D]
        if (ctx.Cache is { } cache)
        {
            var kc = cache.Keys(layer);
            var vc = cache.Values(layer);
            var flatK = k.reshape(b * t, kvHeads, headDim).index_select(0, ctx.WriteSource!); // [N, KV, D]
            var flatV = v.reshape(b * t, kvHeads, headDim).index_select(0, ctx.WriteSource!); // [N, KV, D]
            kc.index_put_(flatK, TensorIndex.Tensor(ctx.WriteRows!), TensorIndex.Tensor(ctx.WritePositions!));
            vc.index_put_(flatV, TensorIndex.Tensor(ctx.WriteRows!), TensorIndex.Tensor(ctx.WritePositions!));
            keys = Rows(kc, ctx).permute(0, 2, 1, 3); // [B, KV, Lk, D]
            values = Rows(vc, ctx).permute(0, 2, 1, 3); // [B, KV, Lk, D]
        }
        else
        {
            keys = k.permute(0, 2, 1, 3); // [B, KV, T, D]
            values = v.permute(0, 2, 1, 3); // [B, KV, T, D]
        }

        // Query head h reads KV head h / groups (Hugging Face's repeat_kv order).
        var qg = q.view(b, t, kvHeads, groups, headDim).permute(0, 2, 3, 1, 4).reshape(b, kvHeads, groups * t, headDim); // [B, KV, G*T, D]
        var scores = matmul(qg, keys.transpose(-1, -2)).view(b, kvHeads, groups, t, ctx.KeyLength); // [B, KV, G, T, Lk]
        // float32 softmax: half-precision exponentials lose the tail of the distribution.
        var probs = (scores.to_type(ScalarType.Float32) * (1.0 / Math.Sqrt(headDim)))
            .masked_fill(ctx.Mask.logical_not(), double.NegativeInfinity)
            .softmax(-1)
            .to_type(x.dtype);
        var attended = matmul(probs.view(b, kvHeads, groups * t, ctx.KeyLength), values); // [B, KV, G*T, D]
        var merged = attended.view(b, kvHeads, groups, t, headDim).permute(0, 3, 1, 2, 4).reshape(b, t, heads * headDim); // [B, T, H*D]
        return o_proj.Forward(merged, delta).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The batch's cache rows up to the key length, [B, Lk, KV, D]: a view when the rows are consecutive,
    /// else a gather of only the first Lk positions (gathering whole rows would copy the full preallocated
    /// length, 2048 positions for TinyLlama, every layer of every step).
    /// </summary>
    private static Tensor Rows(Tensor cache, AttentionContext ctx)
    {
        var used = cache.narrow(1, 0, ctx.KeyLength); // [rows, Lk, KV, D]
        return ctx.CacheRowStart is { } start
            ? used.narrow(0, start, ctx.CacheRows!.shape[0])
            : used.index_select(0, ctx.CacheRows!);
    }
}
