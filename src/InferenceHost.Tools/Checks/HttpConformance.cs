using System.Net.Http.Json;
using System.Text.Json;

namespace InferenceHost.Tools.Checks;

/// <summary>
/// The golden cases through a running server's <c>POST /v1/completions</c> (prompt text in, token ids out), one at a
/// time and then all at once, as the API tests do; the server must have been started on the fixture's directory
/// with its <c>adapters/</c> folder. Also returns <c>GET /v1/engine</c>, which says the LoRA mode the server ran.
/// </summary>
internal static class HttpConformance
{
    public static async Task<(List<RunReport> Runs, JsonElement? Engine)> RunAsync(Uri url, GoldenModel f)
    {
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(120) };
        var alone = new List<CaseOutcome>();
        foreach (var c in f.Cases)
        {
            alone.Add(await Check(http, f, c));
        }

        var batch = await Task.WhenAll(f.Cases.Select(c => Check(http, f, c)));
        JsonElement? engine = null;
        using (var response = await http.GetAsync("/v1/engine"))
        {
            if (response.IsSuccessStatusCode)
            {
                engine = await response.Content.ReadFromJsonAsync<JsonElement>();
            }
        }

        var mode = engine is { } e && e.TryGetProperty("lora_mode", out var m) && m.TryGetProperty("configured", out var cfg) ? cfg.GetString() ?? "?" : "?";
        return ([RunReport.Of(f.Model, mode, "http-alone", alone, GoldenFile.LogitTolerance), RunReport.Of(f.Model, mode, "http-concurrent", batch, GoldenFile.LogitTolerance)], engine);
    }

    private static async Task<CaseOutcome> Check(HttpClient http, GoldenModel f, GoldenExpectation c)
    {
        var body = new
        {
            model = c.Adapter ?? f.Model,
            prompt = f.Prompts[c.Prompt].Text,
            temperature = 0,
            max_tokens = f.GreedyTokens,
            ignore_eos = true,
            return_token_ids = true,
        };
        try
        {
            using var response = await http.PostAsJsonAsync("/v1/completions", body);
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                return new CaseOutcome(c.Label, false, null, $"HTTP {(int)response.StatusCode}: {text}");
            }

            using var doc = JsonDocument.Parse(text);
            var promptIds = doc.RootElement.GetProperty("prompt_token_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var tokens = doc.RootElement.GetProperty("choices")[0].GetProperty("token_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var error = promptIds.SequenceEqual(f.Prompts[c.Prompt].Ids) ? null : $"prompt ids [{string.Join(", ", promptIds)}] differ from the golden's";
            return new CaseOutcome(c.Label, c.Greedy.SequenceEqual(tokens), null, error);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new CaseOutcome(c.Label, false, null, e.Message);
        }
    }
}
