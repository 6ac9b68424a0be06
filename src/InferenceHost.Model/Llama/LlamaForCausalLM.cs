using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Kernels;
using InferenceHost.Model.Quantization;
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

    public LlamaForCausalLM(LlamaConfig config, ScalarType dtype, Device device, long maxPositions, LinearOptions? linear = null) : base("LlamaForCausalLM")
    {
        Config = config;
        DType = dtype;
        Device = device;
        LinearOptions = linear ?? LinearOptions.Default;
        model = new LlamaModel(config, dtype, device, maxPositions, LinearOptions);
        if (!config.TieWordEmbeddings)
        {
            lm_head = new TokenEmbedding("lm_head", config.VocabSize, config.HiddenSize, dtype, device);
        }

        RegisterComponents();
    }

    public LlamaConfig Config { get; }

    public ScalarType DType { get; }

    public Device Device { get; }

    /// <summary>How the linear modules store and multiply their weights (quantization, decode kernels).</summary>
    public LinearOptions LinearOptions { get; }

    public WeightQuantization Quantization => LinearOptions.Quantization;

    /// <summary>Resident bytes of all weights: the parameters (embeddings, norms, head, dense linears) plus quantized codes and scales.</summary>
    public long WeightBytes =>
        parameters().Sum(p => p.NumberOfElements * p.ElementSize) + Linears.Sum(l => l.Quantized?.Bytes ?? 0);

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
        var clock = ProductClock.Start();
        var logits = LinearOptions.DecodeKernels && !head.requires_grad && DecodeProducts.Applies(hidden, head.shape[1], DecodeProducts.DenseFormat(head.dtype))
            ? DecodeProducts.Linear(hidden, head)
            : nn.functional.linear(hidden, head); // [B, (T,) V]
        ProductClock.Stop(clock);
        return logits.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
