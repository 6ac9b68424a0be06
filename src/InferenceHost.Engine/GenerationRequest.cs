using InferenceHost.Engine.Generation;
using InferenceHost.Engine.Sampling;

namespace InferenceHost.Engine;

/// <summary>An adapter a request names, with its weight (LoRAs are summed with these weights).</summary>
public sealed record AdapterRequest(string Name, double Weight = 1.0);

public sealed record GenerationRequest
{
    public required IReadOnlyList<int> PromptIds { get; init; }

    public required SamplingParams Sampling { get; init; }

    /// <summary>LoRAs (any number, weighted) and at most one soft prompt.</summary>
    public IReadOnlyList<AdapterRequest> Adapters { get; init; } = [];

    /// <summary>Cancelling ends the request at the next step boundary and frees its row.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Refuse to start and stop generating after this instant (per-request deadline); ends with <see cref="FinishReason.Deadline"/>.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Record the top-5 logits of the first generated position (conformance checks); off on the serving path.</summary>
    public bool RecordFirstStepTopLogits { get; init; }
}

/// <summary>
/// A finished request. A request that failed has <see cref="FinishReason.Error"/> and <see cref="Error"/>
/// (a <see cref="RequestFailedException"/>, or the adapter error that stopped it): failures are results, so
/// a caller streaming several choices can end the failed one and go on with the rest.
/// </summary>
public sealed record GenerationResult(
    IReadOnlyList<int> PromptIds,
    IReadOnlyList<int> TokenIds,
    string Text,
    FinishReason Finish,
    IReadOnlyList<(int Id, float Logit)>? FirstStepTopLogits,
    TimeSpan QueueTime,
    TimeSpan? TimeToFirstToken,
    TimeSpan Total,
    string Mode,
    IReadOnlyList<PromptLogprob>? PromptLogprobs = null,
    Exception? Error = null);

/// <summary>A submitted request: its tokens as they come, and its result at the end.</summary>
public sealed class GenerationHandle
{
    internal GenerationHandle(System.Threading.Channels.ChannelReader<TokenEvent> tokens, Task<GenerationResult> completion)
    {
        Tokens = tokens;
        Completion = completion;
    }

    public System.Threading.Channels.ChannelReader<TokenEvent> Tokens { get; }

    public Task<GenerationResult> Completion { get; }
}
