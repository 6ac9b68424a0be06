using InferenceHost.Model.Llama;
using InferenceHost.Trainer.Data;
using static TorchSharp.torch;

namespace InferenceHost.Trainer.Training;

/// <summary>The causal-LM loss of a batch, shared by training, validation and perplexity.</summary>
public static class CausalLmLoss
{
    /// <summary>
    /// Sum of the token cross-entropies over the batch's labelled positions (a scalar tensor). A soft
    /// prompt [n, hidden] is prepended to every row; its positions carry no label.
    /// </summary>
    public static Tensor Sum(LlamaForCausalLM net, Batch batch, ILinearDelta? delta, Tensor? prefix)
    {
        using var scope = NewDisposeScope();
        var ids = tensor(batch.Ids, dtype: ScalarType.Int64).view(batch.Rows, batch.Width); // [B, T]
        var labels = tensor(batch.Labels, dtype: ScalarType.Int64).view(batch.Rows, batch.Width); // [B, T]
        var embeddings = net.Embed(ids); // [B, T, hidden]
        var lengths = batch.Lengths;
        var n = 0L;
        if (prefix is not null)
        {
            n = prefix.shape[0];
            embeddings = cat([prefix.to_type(embeddings.dtype).unsqueeze(0).expand(batch.Rows, -1, -1), embeddings], 1); // [B, n+T, hidden]
            lengths = lengths.Select(l => l + n).ToArray();
        }

        var logits = net.Forward(new ForwardBatch
        {
            Embeddings = embeddings,
            Starts = new long[batch.Rows],
            Lengths = lengths,
            Delta = delta,
            Logits = LogitsMode.All,
        }); // [B, n+T, V]
        if (n > 0)
        {
            logits = logits.narrow(1, n, batch.Width); // [B, T, V]
        }

        var v = logits.shape[2];
        return nn.functional.cross_entropy(logits.reshape(-1, v), labels.reshape(-1), ignore_index: Batch.Ignore, reduction: nn.Reduction.Sum)
            .MoveToOuterDisposeScope();
    }

    /// <summary>Mean loss per labelled token over the batches (no gradients).</summary>
    public static double Mean(LlamaForCausalLM net, IEnumerable<Batch> batches, ILinearDelta? delta, Tensor? prefix)
    {
        using var noGrad = no_grad();
        double sum = 0;
        long count = 0;
        foreach (var b in batches)
        {
            using var scope = NewDisposeScope();
            sum += Sum(net, b, delta, prefix).item<float>();
            count += b.TargetCount;
        }

        return count == 0 ? double.NaN : sum / count;
    }
}
