using InferenceHost.Model.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>
/// The Llama causal language model: <c>model.*</c> plus the output head (<c>lm_head.weight</c>, or
/// the embedding table when <c>tie_word_embeddings</c>). Weights are frozen; build with
/// <see cref="ModelLoader"/>.
/// </summary>
public sealed class LlamaForCausalLM : nn.Module
{
#pragma warning disable IDE1006 // named as the checkpoint keys
    private readonly LlamaModel model;
    private readonly TokenEmbedding? lm_head;
#pragma warning restore IDE1006
    private LlamaLinear[]? linears;

    public LlamaForCausalLM(LlamaConfig config, ScalarType dtype, Device device, long maxPositions) : base("LlamaForCausalLM")
    {
        Config = config;
        DType = dtype;
        Device = device;
        model = new LlamaModel(config, dtype, device, maxPositions);
        if (!config.TieWordEmbeddings)
        {
            lm_head = new TokenEmbedding("lm_head", config.VocabSize, config.HiddenSize, dtype, device);
        }

        RegisterComponents();
    }

    public LlamaConfig Config { get; }

    public ScalarType DType { get; }

    public Device Device { get; }

    public LlamaModel Model => model;

    public long MaxPositions => model.MaxPositions;

    /// <summary>Every adaptable linear module, in layer order.</summary>
    public IReadOnlyList<LlamaLinear> Linears => linears ??= model.Linears.ToArray();

    public LlamaLinear Linear(LinearSite site) => Linears[(site.Layer * LinearSite.AllKinds.Count) + (int)site.Kind];

    /// <summary>Token embeddings for <paramref name="ids"/> [B, T] → [B, T, hidden].</summary>
    public Tensor Embed(Tensor ids) => model.EmbedTokens.Forward(ids);

    /// <summary>Logits for the batch: [B, vocab] for <see cref="LogitsMode.Last"/>, else [B, T, vocab]; float32.</summary>
    public Tensor Forward(ForwardBatch batch)
    {
        using var scope = NewDisposeScope();
        var hidden = model.Forward(batch); // [B, T, hidden]
        if (batch.Logits == LogitsMode.Last)
        {
            var last = tensor(batch.Lengths.Select(l => l - 1).ToArray(), dtype: ScalarType.Int64, device: hidden.device); // [B]
            hidden = hidden.gather(1, last.view(-1, 1, 1).expand(-1, 1, hidden.shape[2])).squeeze(1); // [B, hidden]
        }

        var head = (lm_head ?? model.EmbedTokens).Weight; // [V, hidden]
        return nn.functional.linear(hidden, head).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
