namespace InferenceHost.Engine;

/// <summary>A request parameter is invalid; <see cref="Field"/> names it as the API spells it (HTTP 400).</summary>
public sealed class InvalidRequestException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
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

/// <summary>
/// One request failed while the others in its batch went on: a non-finite result, a sampler or detokenizer
/// error, a failed forward pass of its own. <see cref="Field"/> is set when the request's own parameters
/// caused it (an HTTP 400 naming that field); otherwise it is a server error (500) with this message.
/// </summary>
public sealed class RequestFailedException(string message, string? field = null, Exception? inner = null) : Exception(message, inner)
{
    public string? Field { get; } = field;

    public bool CausedByRequest => Field is not null;
}
