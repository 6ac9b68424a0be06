using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using InferenceHost.Engine.Sampling;

namespace InferenceHost.Apis.Requests;

/// <summary>One chat message; <c>content</c> is a string, a list of <c>{"type": "text", "text"}</c> parts, or null.</summary>
public sealed record ChatMessageIn
{
    public required string Role { get; init; }

    [JsonConverter(typeof(ContentConverter))]
    public string? Content { get; init; }

    public string? Name { get; init; }

    private sealed class ContentConverter : JsonConverter<string?>
    {
        public override bool HandleNull => true;

        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.Null:
                    return null;
                case JsonTokenType.String:
                    return RequestJson.Nested<string>(ref reader, options);
                case JsonTokenType.StartArray:
                    var sb = new StringBuilder();
                    foreach (var part in RequestJson.Nested<TextPart[]>(ref reader, options))
                    {
                        sb.Append(part.Type == "text" ? part.Text : throw new JsonException($"parts must be {{\"type\": \"text\", \"text\": ...}}, not '{part.Type}'"));
                    }

                    return sb.ToString();
                default:
                    throw new JsonException("must be a string or a list of text parts");
            }
        }

        public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }

    private sealed record TextPart
    {
        public required string Type { get; init; }

        public string Text { get; init; } = string.Empty;
    }
}

public sealed record ResponseFormat
{
    public required string Type { get; init; }
}

/// <summary>The body of <c>POST /v1/chat/completions</c>.</summary>
public sealed record ChatCompletionRequest : GenerationFields
{
    private static readonly string[] Roles = ["system", "user", "assistant", "developer", "tool"];

    public required IReadOnlyList<ChatMessageIn> Messages { get; init; }

    public int? MaxCompletionTokens { get; init; }

    public bool? Logprobs { get; init; }

    public int? TopLogprobs { get; init; }

    public ResponseFormat? ResponseFormat { get; init; }

    /// <summary>Tools are not supported yet: accepted only as absent or empty.</summary>
    public JsonElement? Tools { get; init; }

    public JsonElement? ToolChoice { get; init; }

    public bool? ParallelToolCalls { get; init; }

    /// <summary>The messages, roles checked (developer is read as system).</summary>
    public IReadOnlyList<Hosting.ChatMessage> ChatMessages()
    {
        if (Messages.Count == 0)
        {
            throw ApiException.BadRequest("'messages' must be a non-empty list of {\"role\", \"content\"} objects", "messages");
        }

        if (Tools is { ValueKind: JsonValueKind.Array } t && t.GetArrayLength() > 0 || Tools is { ValueKind: not (JsonValueKind.Array or JsonValueKind.Null) })
        {
            throw ApiException.BadRequest("'tools' are not supported yet", "tools");
        }

        if (ResponseFormat is { Type: not "text" } f)
        {
            throw ApiException.BadRequest($"'response_format' type '{f.Type}' is not supported (only 'text')", "response_format.type");
        }

        return Messages.Select((m, i) => Roles.Contains(m.Role)
            ? new Hosting.ChatMessage(m.Role == "developer" ? "system" : m.Role, m.Content ?? string.Empty)
            : throw ApiException.BadRequest($"'messages[{i}].role' must be one of {string.Join(", ", Roles)}", $"messages[{i}].role")).ToArray();
    }

    /// <param name="defaultMaxTokens">When neither max_completion_tokens nor max_tokens is given: the rest of the context.</param>
    public SamplingParams ToSampling(int defaultMaxTokens)
    {
        var maxTokens = MaxCompletionTokens is not null ? Range(MaxCompletionTokens, "max_completion_tokens", 1, 1 << 24) : Range(MaxTokens, "max_tokens", 1, 1 << 24);
        var top = Range(TopLogprobs, "top_logprobs", 0, 20);
        if (top is not null && Logprobs != true)
        {
            throw ApiException.BadRequest("'top_logprobs' needs 'logprobs': true", "top_logprobs");
        }

        return Sampling(maxTokens ?? Math.Max(1, defaultMaxTokens), Logprobs == true ? top ?? 0 : null, promptLogprobs: false);
    }
}
