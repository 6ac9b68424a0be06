namespace InferenceHost.LoadTests.Metrics;

/// <summary>
/// One HTTP attempt. <see cref="Outcome"/> is "ok", the HTTP status code ("429", "500", ...), or "transport",
/// "timeout", "stream-error", "cancelled". Latencies are milliseconds; TTFT is to the first non-empty text chunk.
/// </summary>
public sealed record RequestResult
{
    public int Index { get; init; }
    public string Label { get; init; } = "";
    public int HttpStatus { get; init; }
    public string Outcome { get; init; } = "ok";
    public string? Error { get; init; }
    public double StartSeconds { get; init; }
    public double TtftMs { get; init; }
    public double E2eMs { get; init; }
    public IReadOnlyList<double> ItlMs { get; init; } = [];
    public int OutputTokens { get; init; }
    public int? PromptTokens { get; init; }
    public bool TokensFromUsage { get; init; }
    public double? RetryAfterSeconds { get; init; }

    public bool Ok => Outcome == "ok";

    /// <summary>Time per output token after the first: (e2e − ttft) / (tokens − 1); null for 0 or 1 token.</summary>
    public double? TpotMs => OutputTokens > 1 ? (E2eMs - TtftMs) / (OutputTokens - 1) : null;
}
