namespace InferenceHost.Fuzz.Send;

/// <summary>
/// How the server answered one case. <see cref="Status"/> is the HTTP status code as text, or one of the
/// failure kinds: <c>reset</c> (connection cut without a complete answer), <c>hang</c> (no answer in time),
/// <c>cut-stream</c> / <c>bad-sse</c> (a stream that did not end with <c>data: [DONE]</c> or held a bad event),
/// <c>bad-json</c> (a 2xx body that is not JSON), <c>waiting</c> (a partial request the server rightly waits on).
/// </summary>
public sealed record Outcome(string Status, double Ms, string? Problem = null, string? Excerpt = null)
{
    public const string Reset = "reset";
    public const string Hang = "hang";
    public const string CutStream = "cut-stream";
    public const string BadSse = "bad-sse";
    public const string BadJson = "bad-json";
    public const string Waiting = "waiting";

    public int? Code => int.TryParse(Status, out var c) ? c : null;

    public bool IsServerError => Code >= 500;

    /// <summary>A connection reset or a stream cut short (target 0).</summary>
    public bool IsReset => Status is Reset or CutStream;

    /// <summary>Saved as an offending case: a 5xx, a reset, a hang, a malformed stream or body.</summary>
    public bool Offends => IsServerError || Status is Reset or Hang or CutStream or BadSse or BadJson;

    /// <summary>A 4xx from an OpenAI route whose body is not <c>{"error": {"message": ...}}</c> (reported, not a target).</summary>
    public bool Unshaped { get; init; }
}
