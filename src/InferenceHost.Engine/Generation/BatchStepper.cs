using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Engine.Generation;

/// <summary>What one step did for one row: a token, nothing yet (still prefilling), or a failure of that row alone.</summary>
public readonly record struct RowOutcome(TokenEvent? Token, RequestFailedException? Failure)
{
    public static readonly RowOutcome Prefilling = default;
}

/// <summary>
/// Runs one forward pass over a batch of sequences and samples for those whose input is consumed.
/// Each row feeds its next <c>count</c> input positions: the soft prompt, then the prompt, then the
/// generated tokens; a prompt can thus be fed in chunks (chunked prefill), and decode rows feed one.
/// The adapter delta for the pass is built by the caller before the step.
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
    /// Feeds each row's next <c>Count</c> positions through the model with <paramref name="delta"/> applied;
    /// returns, per row, the token sampled once its input is all in the cache. A failure of the forward pass
    /// itself throws (it belongs to the whole batch); a failure while sampling one row is that row's outcome.
    /// </summary>
    public RowOutcome[] Step(IReadOnlyList<(Sequence Seq, int Count)> work, ILinearDelta? delta = null)
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

        var wantsPrompt = work.Any(w => w.Seq.Sampling.PromptLogprobs && w.Seq.Generated.Count == 0);
        var logits = model.Forward(new ForwardBatch
        {
            Embeddings = stack(embeddings), // [B, T, hidden]
            Starts = rows.Select(s => s.CachedLength).ToArray(),
            Lengths = work.Select(w => (long)w.Count).ToArray(),
            Cache = cache,
            CacheRows = rows.Select(s => s.CacheRow).ToArray(),
            Delta = delta,
            Logits = wantsPrompt ? LogitsMode.All : LogitsMode.Last,
        }).cpu(); // [B, V], or [B, T, V] with prompt log-probabilities

        var outcomes = new RowOutcome[work.Count];
        for (var i = 0; i < work.Count; i++)
        {
            var (seq, count) = work[i];
            var start = seq.CachedLength;
            seq.CachedLength += count;
            outcomes[i] = Sample(seq, wantsPrompt ? logits[i].narrow(0, 0, count) : logits[i], start, wantsPrompt);
        }

        return outcomes;
    }

    private static RowOutcome Sample(Sequence seq, Tensor rowLogits, long start, bool allPositions)
    {
        try
        {
            if (allPositions && seq.Sampling.PromptLogprobs && seq.Generated.Count == 0)
            {
                seq.AcceptPromptLogits(rowLogits, start); // [count, V]
            }

            if (Pending(seq) > 0)
            {
                return RowOutcome.Prefilling;
            }

            return new RowOutcome(seq.Accept(allPositions ? rowLogits[-1] : rowLogits), null);
        }
        catch (RequestFailedException e)
        {
            return new RowOutcome(null, e);
        }
        catch (Exception e)
        {
            return new RowOutcome(null, new RequestFailedException($"reading this row's logits failed: {e.Message}", inner: e));
        }
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
