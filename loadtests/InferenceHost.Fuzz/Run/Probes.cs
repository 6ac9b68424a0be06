using System.Net.Http.Json;
using System.Text.Json;

namespace InferenceHost.Fuzz.Run;

/// <summary>
/// Temperature-0 answers to fixed prompts, for the base and each adapter loaded at the start, sent one at a time:
/// the answers (text, token ids, finish reason) must be byte-identical before and after the attack.
/// </summary>
public static class Probes
{
    public static readonly string[] Prompts = ["Once upon a time", "The quick brown fox jumps over the lazy dog", "1 + 1 = 2, 2 + 2 ="];

    public const int Tokens = 12;

    /// <summary>Answer per "model | route | prompt": the choice's JSON, or the status and body when it failed.</summary>
    public static async Task<SortedDictionary<string, string>> RunAsync(HttpClient http, Uri baseUrl, string? authorization, IReadOnlyList<string> models, CancellationToken ct)
    {
        var answers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var model in models)
        {
            foreach (var prompt in Prompts)
            {
                answers[$"{model} | completions | {prompt}"] = await AskAsync(http, new Uri(baseUrl, "v1/completions"), authorization,
                    new { model, prompt, max_tokens = Tokens, temperature = 0, return_token_ids = true }, ct);
            }

            answers[$"{model} | chat | {Prompts[0]}"] = await AskAsync(http, new Uri(baseUrl, "v1/chat/completions"), authorization,
                new { model, messages = new[] { new { role = "user", content = Prompts[0] } }, max_tokens = Tokens, temperature = 0 }, ct);
        }

        return answers;
    }

    private static async Task<string> AskAsync(HttpClient http, Uri url, string? authorization, object body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        try
        {
            using var response = await http.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                return $"HTTP {(int)response.StatusCode}: {text}";
            }

            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.GetProperty("choices")[0].GetRawText();
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or KeyNotFoundException)
        {
            return $"failed: {e.Message}";
        }
    }

    /// <summary>One line per probe whose answer differs (or is missing) after.</summary>
    public static List<string> Differences(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after) =>
        before.Where(kv => !after.TryGetValue(kv.Key, out var a) || a != kv.Value)
            .Select(kv => $"{kv.Key}: before {kv.Value} / after {after.GetValueOrDefault(kv.Key) ?? "(none)"}")
            .Concat(before.Where(kv => kv.Value.StartsWith("HTTP ", StringComparison.Ordinal) || kv.Value.StartsWith("failed", StringComparison.Ordinal))
                .Select(kv => $"{kv.Key}: the probe itself failed: {kv.Value}"))
            .ToList();
}
