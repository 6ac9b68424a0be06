using InferenceHost.Engine.Sampling;
using InferenceHost.Model.Llama;
using InferenceHost.Model.Tokenization;
using static TorchSharp.torch;

namespace InferenceHost.Engine.Generation;

public enum FinishReason
{
    None,
    Stop,
    Length,
    Cancelled,
    Error,
}

/// <summary>One generated token with what the client may ask about it.</summary>
public sealed record TokenEvent(int TokenId, string Text, float Logprob, IReadOnlyList<(int Id, float Logprob)> TopLogprobs);

/// <summary>
/// Per-sequence state for its lifetime (llama2.c's RunState): tokens so far, its cache row, its sampler,
/// streaming decoder and stop matcher. A sequence never owns weights; its adapter choice is a handle.
/// </summary>
public sealed class Sequence : IDisposable
{
    private readonly Sampler sampler;
    private readonly IIncrementalDecoder decoder;
    private readonly StopStringMatcher stops;
    private readonly List<int> generated = [];

    public Sequence(long id, IReadOnlyList<int> promptIds, SamplingParams sampling, ITextTokenizer tokenizer, IReadOnlySet<int> eosIds)
    {
        sampling.Validate();
        Id = id;
        PromptIds = promptIds;
        Sampling = sampling;
        EosIds = eosIds;
        sampler = new Sampler(sampling);
        decoder = tokenizer.CreateIncrementalDecoder();
        stops = new StopStringMatcher(sampling.Stop);
    }

    public long Id { get; }

    public IReadOnlyList<int> PromptIds { get; }

    public SamplingParams Sampling { get; }

    /// <summary>Ids that end generation (unless <see cref="SamplingParams.IgnoreEos"/>).</summary>
    public IReadOnlySet<int> EosIds { get; }

    /// <summary>Soft-prompt vectors [n, hidden] prepended before the prompt (positions 0..n-1), or null. Not owned.</summary>
    public Tensor? Prefix { get; set; }

    /// <summary>Opaque per-row adapter choice, read by the engine's delta builder.</summary>
    public object? AdapterSelection { get; set; }

    public int PrefixLength => Prefix is null ? 0 : (int)Prefix.shape[0];

    /// <summary>Total positions the sequence may need: prefix + prompt + max output.</summary>
    public int MaxLength => PrefixLength + PromptIds.Count + Sampling.MaxTokens;

    public IReadOnlyList<int> Generated => generated;

    /// <summary>Positions already in the KV cache.</summary>
    public long CachedLength { get; internal set; }

    /// <summary>The KV-cache row it owns (the engine hands rows out; benchmarks set it directly).</summary>
    public long CacheRow { get; set; } = -1;

    public FinishReason Finish { get; internal set; }

    public bool IsFinished => Finish != FinishReason.None;

    /// <summary>Top-N logits of the first generated position (kept for conformance checks), or null.</summary>
    public IReadOnlyList<(int Id, float Logit)>? FirstStepTopLogits { get; internal set; }

    /// <summary>Samples from <paramref name="logits"/> [vocab], appends the token and updates the finish state.</summary>
    internal TokenEvent Accept(Tensor logits)
    {
        var id = sampler.Sample(logits);
        var (logprob, top) = Logprobs(logits, id);
        generated.Add(id);
        var text = string.Empty;
        var isEos = EosIds.Contains(id) && !Sampling.IgnoreEos;
        if (!isEos)
        {
            text = stops.Push(decoder.Push(id));
        }

        if (stops.Stopped || isEos)
        {
            Finish = FinishReason.Stop;
        }
        else if (generated.Count >= Sampling.MaxTokens)
        {
            Finish = FinishReason.Length;
        }

        if (IsFinished && !stops.Stopped)
        {
            text += stops.Push(decoder.Flush()) + stops.Flush();
        }

        return new TokenEvent(id, text, logprob, top);
    }

    internal void Cancel(FinishReason reason) => Finish = reason;

    private (float, IReadOnlyList<(int, float)>) Logprobs(Tensor logits, int id)
    {
        if (Sampling.Logprobs == 0)
        {
            return (float.NaN, []);
        }

        using var scope = NewDisposeScope();
        var lp = logits.log_softmax(-1);
        var (values, indices) = lp.topk(Sampling.Logprobs);
        var top = Enumerable.Range(0, Sampling.Logprobs)
            .Select(i => ((int)indices[i].item<long>(), values[i].item<float>())).ToArray();
        return (lp[id].item<float>(), top);
    }

    /// <summary>Frees the sampler; the prefix belongs to its adapter and is left alone.</summary>
    public void Dispose() => sampler.Dispose();
}
