using System.Text.Json;

namespace InferenceHost.LoadTests.Client;

/// <summary>What the tool needs from one streamed chunk (or an error body) of the OpenAI completions API.</summary>
public sealed record CompletionChunk(string? Text, int? CompletionTokens, int? PromptTokens, string? Error, bool Done)
{
    public const string DoneMarker = "[DONE]";

    /// <summary>Parses one SSE data payload. Malformed JSON is reported as an error chunk, never thrown.</summary>
    public static CompletionChunk Parse(string data)
    {
        if (data.Trim() == DoneMarker)
            return new CompletionChunk(null, null, null, null, true);
        try
        {
            using var doc = JsonDocument.Parse(data);
            JsonElement root = doc.RootElement;
            if (ErrorMessage(root) is { } error)
                return new CompletionChunk(null, null, null, error, false);
            string? text = null;
            if (root.TryGetProperty("choices", out JsonElement choices) && choices.ValueKind == JsonValueKind.Array
                && choices.GetArrayLength() > 0)
            {
                JsonElement c0 = choices[0];
                if (c0.TryGetProperty("text", out JsonElement t) && t.ValueKind == JsonValueKind.String)
                    text = t.GetString();
                else if (c0.TryGetProperty("delta", out JsonElement delta) && delta.TryGetProperty("content", out JsonElement ct)
                         && ct.ValueKind == JsonValueKind.String)
                    text = ct.GetString(); // chat-completions shape, accepted too
            }
            int? completion = null, prompt = null;
            if (root.TryGetProperty("usage", out JsonElement usage) && usage.ValueKind == JsonValueKind.Object)
            {
                if (usage.TryGetProperty("completion_tokens", out JsonElement ctk) && ctk.TryGetInt32(out int cv))
                    completion = cv;
                if (usage.TryGetProperty("prompt_tokens", out JsonElement ptk) && ptk.TryGetInt32(out int pv))
                    prompt = pv;
            }
            return new CompletionChunk(text, completion, prompt, null, false);
        }
        catch (JsonException e)
        {
            return new CompletionChunk(null, null, null, $"malformed chunk: {e.Message}", false);
        }
    }

    /// <summary>
    /// The message of an error body: OpenAI's <c>{"error": {"message": ...}}</c>, <c>{"error": "..."}</c>,
    /// or vLLM's <c>{"object": "error", "message": ...}</c>. Null when the element is not an error.
    /// </summary>
    public static string? ErrorMessage(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            return null;
        if (root.TryGetProperty("error", out JsonElement err))
        {
            if (err.ValueKind == JsonValueKind.String)
                return err.GetString();
            if (err.ValueKind == JsonValueKind.Object)
                return err.TryGetProperty("message", out JsonElement m) ? m.ToString() : err.GetRawText();
        }
        if (root.TryGetProperty("object", out JsonElement obj) && obj.ValueKind == JsonValueKind.String
            && obj.GetString() == "error")
            return root.TryGetProperty("message", out JsonElement m) ? m.ToString() : root.GetRawText();
        return null;
    }

    /// <summary>Best-effort message from a non-2xx response body (JSON error or plain text).</summary>
    public static string ErrorFromBody(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
            return "(empty body)";
        try
        {
            using var doc = JsonDocument.Parse(body);
            return ErrorMessage(doc.RootElement) ?? Truncate(body);
        }
        catch (JsonException)
        {
            return Truncate(body);
        }
    }

    private static string Truncate(string s) => s.Length <= 300 ? s : s[..300] + "…";
}
