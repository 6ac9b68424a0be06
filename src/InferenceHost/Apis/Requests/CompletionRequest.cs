using System.Text.Json;
using System.Text.Json.Serialization;
using InferenceHost.Engine.Sampling;

namespace InferenceHost.Apis.Requests;

/// <summary><c>prompt</c>: a string, a list of strings, a list of token ids, or a list of lists of token ids.</summary>
public sealed record PromptInput(IReadOnlyList<string>? Texts, IReadOnlyList<IReadOnlyList<int>>? Ids);

/// <summary>The body of <c>POST /v1/completions</c> (OpenAI's legacy completions, with vLLM's extensions).</summary>
public sealed record CompletionRequest : GenerationFields
{
    [JsonConverter(typeof(PromptConverter))]
    public required PromptInput Prompt { get; init; }

    public bool? Echo { get; init; }

    /// <summary>Top-N log-probabilities per token (0 = the chosen token's only).</summary>
    public int? Logprobs { get; init; }

    public string? Suffix { get; init; }

    public int? BestOf { get; init; }

    public SamplingParams ToSampling()
    {
        if (!string.IsNullOrEmpty(Suffix))
        {
            throw ApiException.BadRequest("'suffix' is not supported", "suffix");
        }

        if (BestOf is { } b && b != Choices)
        {
            throw ApiException.BadRequest("'best_of' is not supported (only equal to n)", "best_of");
        }

        var logprobs = Range(Logprobs, "logprobs", 0, 20);
        return Sampling(Range(MaxTokens, "max_tokens", 1, 1 << 24) ?? 16, logprobs, promptLogprobs: Echo == true && logprobs is not null);
    }

    private sealed class PromptConverter : JsonConverter<PromptInput>
    {
        private const string What = "a string, a list of strings, a list of token ids or a list of lists of token ids";

        public override PromptInput Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                return new PromptInput([RequestJson.Nested<string>(ref reader, options)], null);
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException($"must be {What}");
            }

            // Peek at the first item to tell the four shapes apart, then read the whole list as that shape.
            var peek = reader;
            peek.Read();
            return peek.TokenType switch
            {
                JsonTokenType.EndArray => throw new JsonException("must not be empty"),
                JsonTokenType.String => new PromptInput(RequestJson.Nested<string[]>(ref reader, options), null),
                JsonTokenType.Number => new PromptInput(null, [RequestJson.Nested<int[]>(ref reader, options)]),
                JsonTokenType.StartArray => new PromptInput(null, RequestJson.Nested<int[][]>(ref reader, options)),
                _ => throw new JsonException($"must be {What}"),
            };
        }

        public override void Write(Utf8JsonWriter writer, PromptInput value, JsonSerializerOptions options) => throw new NotSupportedException();
    }
}
