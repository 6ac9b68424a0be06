using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>Which logits a forward pass returns.</summary>
public enum LogitsMode
{
    /// <summary>The last valid position of each row: [B, vocab].</summary>
    Last,

    /// <summary>Every position: [B, T, vocab] (training, perplexity, echo with logprobs).</summary>
    All,
}

/// <summary>
/// The inputs of one forward pass over a batch of B rows of T positions (right-padded).
/// Row b holds <c>Lengths[b]</c> valid tokens at absolute positions <c>Starts[b] .. Starts[b]+Lengths[b]-1</c>.
/// With a cache, row b's keys and values are written to cache row <c>CacheRows[b]</c> and attention
/// sees that row's positions 0 .. Starts[b]+t; without one, attention is causal within the batch
/// (and every start must be 0).
/// </summary>
public sealed record ForwardBatch
{
    /// <summary>Input embeddings [B, T, hidden] (token embeddings, soft prompts prepended by the caller).</summary>
    public required Tensor Embeddings { get; init; }

    public required long[] Starts { get; init; }

    public required long[] Lengths { get; init; }

    public KvCache? Cache { get; init; }

    public long[]? CacheRows { get; init; }

    public ILinearDelta? Delta { get; init; }

    public LogitsMode Logits { get; init; } = LogitsMode.Last;

    public int BatchSize => Starts.Length;

    internal void Validate()
    {
        var b = Embeddings.shape[0];
        var t = Embeddings.shape[1];
        if (Starts.Length != b || Lengths.Length != b)
        {
            throw new ArgumentException($"Starts/Lengths have {Starts.Length}/{Lengths.Length} entries for a batch of {b}");
        }

        for (var i = 0; i < b; i++)
        {
            if (Lengths[i] < 1 || Lengths[i] > t)
            {
                throw new ArgumentException($"row {i}: length {Lengths[i]} outside 1..{t}");
            }

            if (Cache is null && Starts[i] != 0)
            {
                throw new ArgumentException("without a KV cache every row must start at position 0");
            }

            if (Cache is not null && Starts[i] + Lengths[i] > Cache.MaxLength)
            {
                throw new ArgumentException($"row {i}: positions up to {Starts[i] + Lengths[i]} exceed the cache length {Cache.MaxLength}");
            }
        }

        if (Cache is not null && (CacheRows is null || CacheRows.Length != b))
        {
            throw new ArgumentException("a cache needs one cache row per batch row");
        }
    }
}
