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

    /// <summary>Refuse to start and stop generating after this instant (per-request deadline).</summary>
    public DateTimeOffset? Deadline { get; init; }
}

public sealed record GenerationResult(
    IReadOnlyList<int> PromptIds,
    IReadOnlyList<int> TokenIds,
    string Text,
    FinishReason Finish,
    IReadOnlyList<(int Id, float Logit)>? FirstStepTopLogits,
    TimeSpan QueueTime,
    TimeSpan? TimeToFirstToken,
    TimeSpan Total,
    string Mode);

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

/// <summary>The request names an adapter the server does not have.</summary>
public sealed class UnknownAdapterException(string name, IReadOnlyList<string> known)
    : Exception($"adapter '{name}' does not exist; available: {(known.Count == 0 ? "(none)" : string.Join(", ", known))}")
{
    public string Name { get; } = name;

    public IReadOnlyList<string> Known { get; } = known;
}

/// <summary>The queue is full; retry after a moment.</summary>
public sealed class QueueFullException(int limit) : Exception($"the request queue is full ({limit} waiting); retry later")
{
    public int Limit { get; } = limit;
}
