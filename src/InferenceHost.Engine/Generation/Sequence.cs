using InferenceHost.Engine.Sampling;
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

    /// <summary>The request's deadline (<c>Server:RequestTimeoutSeconds</c>) passed before it finished.</summary>
    Deadline,
}

/// <summary>One generated token with what the client may ask about it.</summary>
public sealed record TokenEvent(int TokenId, string Text, float Logprob, IReadOnlyList<(int Id, float Logprob)> TopLogprobs);

/// <summary>A prompt token's log-probability given the tokens before it (null for the first) and the top N there.</summary>
public sealed record PromptLogprob(int TokenId, float? Logprob, IReadOnlyList<(int Id, float Logprob)> TopLogprobs);

/// <summary>
/// Per-sequence state for its lifetime (llama2.c's RunState): tokens so far, its cache row, its sampler,
/// streaming decoder and stop matcher. A sequence never owns weights or adapters.
/// </summary>
public sealed class Sequence : IDisposable
{
    /// <summary>What OpenAI-compatible servers report for a log-probability of −∞ (vLLM clamps the same way).</summary>
    public const float MinLogprob = -9999f;

    private readonly Sampler sampler;
    private readonly IIncrementalDecoder decoder;
    private readonly StopStringMatcher stops;
    private readonly List<int> generated = [];
    private readonly List<PromptLogprob> promptLogprobs = [];

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

    /// <summary>Record <see cref="FirstStepTopLogits"/> (conformance checks only; it costs a top-k per new sequence).</summary>
    public bool RecordFirstStepTopLogits { get; init; }

    /// <summary>Top-5 logits of the first generated position when <see cref="RecordFirstStepTopLogits"/>, else null.</summary>
    public IReadOnlyList<(int Id, float Logit)>? FirstStepTopLogits { get; private set; }

    /// <summary>The prompt tokens' log-probabilities so far, when <see cref="SamplingParams.PromptLogprobs"/>.</summary>
    public IReadOnlyList<PromptLogprob> PromptLogprobs => promptLogprobs;

    /// <summary>
    /// Samples from <paramref name="logits"/> [vocab], appends the token and updates the finish state.
    /// Anything that goes wrong here belongs to this sequence alone: it throws <see cref="RequestFailedException"/>.
    /// </summary>
    internal TokenEvent Accept(Tensor logits)
    {
        try
        {
            return AcceptChecked(logits);
        }
        catch (Exception e) when (e is not RequestFailedException)
        {
            throw new RequestFailedException($"choosing the next token failed: {e.Message}", inner: e);
        }
    }

    /// <summary>
    /// Records prompt log-probabilities from one pass: <paramref name="logits"/> [count, vocab] are the logits
    /// at positions <paramref name="start"/>.. (soft prompt, then prompt), each predicting the next position.
    /// </summary>
    internal void AcceptPromptLogits(Tensor logits, long start)
    {
        using var scope = NewDisposeScope();
        var lp = logits.log_softmax(-1); // [count, V]
        var top = Sampling.Logprobs ?? 0;
        for (var j = 0; j < lp.shape[0]; j++)
        {
            var k = (int)(start + j - PrefixLength); // the prompt token at this position
            if (k == 0)
            {
                promptLogprobs.Add(new PromptLogprob(PromptIds[0], null, [])); // the first has no context (OpenAI: null)
            }

            if (k >= 0 && k + 1 < PromptIds.Count)
            {
                var id = PromptIds[k + 1];
                promptLogprobs.Add(new PromptLogprob(id, Clamp(lp[j][id].item<float>()), Top(lp[j], top)));
            }
        }
    }

    internal void Cancel(FinishReason reason) => Finish = reason;

    private TokenEvent AcceptChecked(Tensor logits)
    {
        if (!logits.isfinite().all().item<bool>())
        {
            throw new RequestFailedException("the model produced non-finite logits for this request (an adapter or weight combination that overflows the compute dtype)");
        }

        if (RecordFirstStepTopLogits && generated.Count == 0)
        {
            var (values, indices) = logits.topk(5);
            FirstStepTopLogits = Enumerable.Range(0, 5).Select(j => ((int)indices[j].item<long>(), values[j].item<float>())).ToArray();
        }

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

    private (float, IReadOnlyList<(int, float)>) Logprobs(Tensor logits, int id)
    {
        if (Sampling.Logprobs is not { } n)
        {
            return (float.NaN, []);
        }

        using var scope = NewDisposeScope();
        var lp = logits.log_softmax(-1);
        return (Clamp(lp[id].item<float>()), Top(lp, n));
    }

    private static IReadOnlyList<(int, float)> Top(Tensor lp, int n)
    {
        if (n == 0)
        {
            return [];
        }

        var (values, indices) = lp.topk(Math.Min(n, (int)lp.shape[0]));
        return Enumerable.Range(0, (int)values.shape[0]).Select(i => ((int)indices[i].item<long>(), Clamp(values[i].item<float>()))).ToArray();
    }

    private static float Clamp(float logprob) => float.IsNaN(logprob) ? MinLogprob : Math.Max(logprob, MinLogprob);

    /// <summary>Frees the sampler; the prefix belongs to its adapter and is left alone.</summary>
    public void Dispose() => sampler.Dispose();
}
