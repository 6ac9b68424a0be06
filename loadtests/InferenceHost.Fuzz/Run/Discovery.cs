using System.Text.Json;
using InferenceHost.Fuzz.Adapters;
using InferenceHost.Fuzz.Cases;
using InferenceHost.Fuzz.Send;
using InferenceHost.Fuzz.Target;

namespace InferenceHost.Fuzz.Run;

/// <summary>What the server serves (<c>GET /v1/models</c>), and a valid LoRA copied into the scratch root for admin loads.</summary>
public static class Discovery
{
    public const string ValidCopy = "valid-lora";

    public static async Task<(FuzzContext Context, AdapterSource? Source)> RunAsync(HttpSender http, FuzzTarget target, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(target.Url, "v1/models"));
        if (target.Authorization is { } auth)
        {
            request.Headers.TryAddWithoutValidation("Authorization", auth);
        }

        using var response = await http.Client.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET /v1/models answered {(int)response.StatusCode}: {text}");
        }

        using var doc = JsonDocument.Parse(text);
        var models = doc.RootElement.GetProperty("data").EnumerateArray().ToList();
        var baseName = models.First(m => m.GetProperty("parent").ValueKind == JsonValueKind.Null).GetProperty("id").GetString()!;
        List<string> Of(string type) => models
            .Where(m => m.TryGetProperty("type", out var t) && t.GetString() == type && m.GetProperty("error").ValueKind == JsonValueKind.Null)
            .Select(m => m.GetProperty("id").GetString()!).Order(StringComparer.Ordinal).ToList();
        var loras = Of("lora");
        var source = FindSource(target.ModelDir, loras);
        string? valid = null;
        if (target.AdapterRoot is { } root && source is not null)
        {
            valid = Directory.CreateDirectory(Path.Combine(root, ValidCopy)).FullName;
            new AdapterWorkspace(root, valid, source, []).Valid();
        }

        return (new FuzzContext(baseName, loras, Of("soft_prompt"), target.AdapterRoot, valid), source);
    }

    /// <summary>A LoRA of the model's own adapters folder the broken kinds start from (lora-qv when there is one).</summary>
    private static AdapterSource? FindSource(string modelDir, IReadOnlyList<string> loras)
    {
        var dirs = loras.OrderBy(l => l == "lora-qv" ? 0 : 1).Select(l => Path.Combine(modelDir, "adapters", l))
            .Where(d => File.Exists(Path.Combine(d, AdapterWorkspace.WeightsFile)) && File.Exists(Path.Combine(d, AdapterWorkspace.ConfigFile)));
        return dirs.FirstOrDefault() is { } dir ? new AdapterSource(dir) : null;
    }
}
