namespace InferenceHost.Fuzz.Cases;

/// <summary>
/// One request the fuzzer sends: an HTTP request (method, path, content type, body), or, for the framing
/// family, raw bytes written on a fresh TCP connection. Saved as JSON when it offends, and replayable from there.
/// </summary>
public sealed record FuzzCase
{
    public required string Family { get; init; }

    /// <summary>What was mutated, in a few words (reports group by family, this tells the cases apart).</summary>
    public required string Description { get; init; }

    public string Method { get; init; } = "POST";

    public string Path { get; init; } = Routes.Completions;

    /// <summary>Null = no Content-Type header.</summary>
    public string? ContentType { get; init; } = "application/json";

    public byte[] Body { get; init; } = [];

    /// <summary>False = no Authorization header; <see cref="Authorization"/> replaces the admin key's header.</summary>
    public bool SendAuth { get; init; } = true;

    public string? Authorization { get; init; }

    /// <summary>Framing cases: the whole request as bytes on a new connection (method, path and body unused).</summary>
    public byte[]? Raw { get; init; }

    /// <summary>Framing cases: the request is partial on purpose (or another protocol), so the server may keep waiting or
    /// close without an answer; neither is then an offense.</summary>
    public bool MayWait { get; init; }

    /// <summary>Framing cases: a 5xx that is the protocol's right answer (505 for an HTTP version the server does not speak).</summary>
    public int? ProtocolStatus { get; init; }

    /// <summary>Framing cases: how many responses the bytes ask for (pipelining).</summary>
    public int ExpectedResponses { get; init; } = 1;
}

/// <summary>The routes under attack.</summary>
public static class Routes
{
    public const string Completions = "/v1/completions";
    public const string Chat = "/v1/chat/completions";
    public const string Adapters = "/v1/adapters";
    public const string LoadLora = "/v1/load_lora_adapter";
    public const string UnloadLora = "/v1/unload_lora_adapter";
}
