using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Engine.Generation;

/// <summary>Builds the adapter delta for the rows of one forward pass (null = base model only).</summary>
public delegate ILinearDelta? DeltaFactory(IReadOnlyList<Sequence> rows);

/// <summary>
/// Runs one forward pass over a batch of sequences and samples for those whose input is consumed.
/// Each row feeds its next <c>count</c> input positions: the soft prompt, then the prompt, then the
/// generated tokens; a prompt can thus be fed in chunks (chunked prefill), and decode rows feed one.
/// </summary>
public sealed class BatchStepper
{
    private readonly LlamaForCausalLM model;
    private readonly KvCache cache;

    public BatchStepper(LlamaForCausalLM model, KvCache cache)
    {
        this.model = model;
        this.cache = cache;
    }

    /// <summary>Input positions the sequence has not fed yet.</summary>
    public static long Pending(Sequence s) => s.PrefixLength + s.PromptIds.Count + s.Generated.Count - s.CachedLength;

    /// <summary>
    /// Feeds each row's next <c>Count</c> positions; returns the token sampled for every row whose input
    /// is now all in the cache (null for rows still prefilling).
    /// </summary>
    public IReadOnlyList<TokenEvent?> Step(IReadOnlyList<(Sequence Seq, int Count)> work, DeltaFactory? deltas = null)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var rows = work.Select(w => w.Seq).ToArray();
        var maxCount = work.Max(w => w.Count);
        var embeddings = new List<Tensor>(work.Count);
        foreach (var (seq, count) in work)
        {
            if (count < 1 || count > Pending(seq))
            {
                throw new ArgumentException($"sequence {seq.Id}: asked to feed {count} positions, {Pending(seq)} pending");
            }

            var rowEmbeddings = RowEmbeddings(seq, seq.CachedLength, count); // [count, hidden]
            embeddings.Add(nn.functional.pad(rowEmbeddings, [0, 0, 0, maxCount - count])); // [maxCount, hidden]
        }

        var logits = model.Forward(new ForwardBatch
        {
            Embeddings = stack(embeddings), // [B, T, hidden]
            Starts = rows.Select(s => s.CachedLength).ToArray(),
            Lengths = work.Select(w => (long)w.Count).ToArray(),
            Cache = cache,
            CacheRows = rows.Select(s => s.CacheRow).ToArray(),
            Delta = deltas?.Invoke(rows),
        }).cpu(); // [B, V]

        var events = new TokenEvent?[work.Count];
        for (var i = 0; i < work.Count; i++)
        {
            var (seq, count) = work[i];
            seq.CachedLength += count;
            if (Pending(seq) > 0)
            {
                continue; // still prefilling
            }

            var rowLogits = logits[i];
            if (seq.Generated.Count == 0)
            {
                var (values, indices) = rowLogits.topk(5);
                seq.FirstStepTopLogits = Enumerable.Range(0, 5)
                    .Select(j => ((int)indices[j].item<long>(), values[j].item<float>())).ToArray();
            }

            events[i] = seq.Accept(rowLogits);
        }

        return events;
    }

    private Tensor RowEmbeddings(Sequence seq, long from, int count)
    {
        var parts = new List<Tensor>();
        var prefixLength = seq.PrefixLength;
        if (from < prefixLength)
        {
            var n = Math.Min(count, prefixLength - from);
            parts.Add(seq.Prefix!.narrow(0, from, n).to(model.DType, model.Device)); // [n, hidden]
        }

        var tokenFrom = Math.Max(0, from - prefixLength);
        var tokenCount = from + count - prefixLength - tokenFrom;
        if (tokenCount > 0)
        {
            var ids = new long[tokenCount];
            for (var j = 0; j < tokenCount; j++)
            {
                var k = (int)(tokenFrom + j);
                ids[j] = k < seq.PromptIds.Count ? seq.PromptIds[k] : seq.Generated[k - seq.PromptIds.Count];
            }

            parts.Add(model.Embed(tensor(ids, dtype: ScalarType.Int64, device: model.Device).view(1, -1))[0]); // [n, hidden]
        }

        return parts.Count == 1 ? parts[0] : cat(parts, 0);
    }
}
