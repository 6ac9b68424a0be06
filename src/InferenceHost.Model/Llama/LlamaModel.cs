using InferenceHost.Model.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>The decoder stack: embeddings, layers, final norm (Hugging Face's <c>model.*</c>).</summary>
public sealed class LlamaModel : nn.Module
{
#pragma warning disable IDE1006 // named as the checkpoint keys
    private readonly TokenEmbedding embed_tokens;
    private readonly ModuleList<LlamaDecoderLayer> layers;
    private readonly RmsNorm norm;
#pragma warning restore IDE1006
    private readonly RotaryEmbedding rope;
    private readonly bool kernels; // decode-sized steps' norms, residual adds and rotations in RowKernels

    public LlamaModel(LlamaConfig c, ScalarType dtype, Device device, long maxPositions, LinearOptions linear) : base("model")
    {
        kernels = linear.DecodeKernels && linear.RowKernels;
        embed_tokens = new TokenEmbedding("embed_tokens", c.VocabSize, c.HiddenSize, dtype, device);
        layers = new ModuleList<LlamaDecoderLayer>(Enumerable.Range(0, c.NumHiddenLayers).Select(i => new LlamaDecoderLayer(i, c, dtype, device, linear)).ToArray());
        norm = new RmsNorm("norm", c.HiddenSize, c.RmsNormEps, dtype, device);
        rope = new RotaryEmbedding(c, maxPositions, device);
        RegisterComponents();
    }

    public TokenEmbedding EmbedTokens => embed_tokens;

    public long MaxPositions => rope.MaxPositions;

    public IEnumerable<LlamaLinear> Linears => layers.SelectMany(l => l.Linears);

    /// <summary>Runs the stack; returns the final-normed hidden states [B, T, hidden].</summary>
    public Tensor Forward(ForwardBatch batch)
    {
        batch.Validate();
        using var scope = NewDisposeScope();
        var ctx = AttentionContext.Create(batch, batch.Embeddings.device);
        var (h, normed) = layers[0].InputNorm.AddForward(batch.Embeddings, null, kernels);
        for (var i = 0; i < layers.Count; i++)
        {
            var next = i + 1 < layers.Count ? layers[i + 1].InputNorm : norm;
            (h, normed) = layers[i].Forward(h, normed, ctx, rope, batch.Delta, next, kernels); // [B, T, hidden] each
        }

        return normed.MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            rope.Dispose();
        }

        base.Dispose(disposing);
    }
}
