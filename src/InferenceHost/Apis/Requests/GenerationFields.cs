using System.Text.Json;
using System.Text.Json.Serialization;
using InferenceHost.Engine;
using InferenceHost.Engine.Sampling;

namespace InferenceHost.Apis.Requests;

/// <summary>An entry of the <c>adapters</c> extension: a LoRA (with its weight) or a soft prompt, by name.</summary>
public sealed record AdapterRef
{
    public required string Name { get; init; }

    public double? Weight { get; init; }
}

public sealed record StreamOptions
{
    public bool? IncludeUsage { get; init; }
}

/// <summary>
/// The fields completions and chat share, as OpenAI (and vLLM's extensions) spell them. Fields OpenAI clients
/// send at their neutral values (penalties 0, no logit bias) are accepted at those values only; anything else
/// unknown is refused by <see cref="RequestJson"/>.
/// </summary>
public abstract record GenerationFields
{
    public string? Model { get; init; }

    public int? MaxTokens { get; init; }

    public double? Temperature { get; init; }

    public double? TopP { get; init; }

    /// <summary>vLLM's extension: 0 or −1 = off.</summary>
    public int? TopK { get; init; }

    public int? N { get; init; }

    [JsonConverter(typeof(StringOrListConverter))]
    public IReadOnlyList<string>? Stop { get; init; }

    public long? Seed { get; init; }

    public bool? Stream { get; init; }

    public StreamOptions? StreamOptions { get; init; }

    public string? User { get; init; }

    public bool? IgnoreEos { get; init; }

    public bool? ReturnTokenIds { get; init; }

    public IReadOnlyList<AdapterRef>? Adapters { get; init; }

    public double? FrequencyPenalty { get; init; }

    public double? PresencePenalty { get; init; }

    public IReadOnlyDictionary<string, double>? LogitBias { get; init; }

    public JsonElement? Metadata { get; init; }

    public bool? Store { get; init; }

    public string? ServiceTier { get; init; }

    /// <summary>The sampling parameters, range-checked (400 naming the field).</summary>
    protected SamplingParams Sampling(int maxTokens, int? logprobs, bool promptLogprobs)
    {
        Neutral(FrequencyPenalty, "frequency_penalty");
        Neutral(PresencePenalty, "presence_penalty");
        if (LogitBias is { Count: > 0 })
        {
            throw ApiException.BadRequest("'logit_bias' is not supported (only an empty map)", "logit_bias");
        }

        var stop = Stop ?? [];
        if (stop.Any(string.IsNullOrEmpty))
        {
            throw ApiException.BadRequest("'stop' strings must not be empty", "stop");
        }

        if (stop.Count > 16 || stop.Any(s => s.Length > 1024))
        {
            throw ApiException.BadRequest("'stop' takes at most 16 strings of at most 1024 characters", "stop");
        }

        return new SamplingParams
        {
            MaxTokens = maxTokens,
            Temperature = Range(Temperature, "temperature", 0, 2) ?? 1.0,
            TopP = Range(TopP, "top_p", double.Epsilon, 1) ?? 1.0,
            TopK = Range(TopK, "top_k", -1, 1 << 20) is { } k and > 0 ? k : 0,
            Seed = Seed,
            Stop = stop,
            IgnoreEos = IgnoreEos ?? false,
            Logprobs = logprobs,
            PromptLogprobs = promptLogprobs,
        };
    }

    /// <summary>The adapters the extension field names, their weights range-checked.</summary>
    public IReadOnlyList<AdapterRequest> AdapterRequests() =>
        (Adapters ?? []).Select((a, i) => new AdapterRequest(a.Name, Range(a.Weight, $"adapters[{i}].weight", -100, 100) ?? 1.0)).ToArray();

    public int Choices => Range(N, "n", 1, 128) ?? 1;

    protected static T? Range<T>(T? value, string field, T min, T max)
        where T : struct, IComparable<T>
    {
        if (value is { } v && (v.CompareTo(min) < 0 || v.CompareTo(max) > 0 || v is double d && !double.IsFinite(d)))
        {
            throw ApiException.BadRequest($"'{field}' must be between {min} and {max} (got {v})", field);
        }

        return value;
    }

    private static void Neutral(double? value, string field)
    {
        if (value is { } v && v != 0)
        {
            throw ApiException.BadRequest($"'{field}' is not supported (only 0)", field);
        }
    }
}
