using System.Text.Json;

namespace InferenceHost.Api.Tests;

/// <summary><c>/v1/engine</c> reports the weights' format and resident bytes; a quantized base holds fewer and still serves.</summary>
public sealed class QuantizedEngineApiTests
{
    [Fact]
    public async Task The_engine_status_reports_the_weights_resident_bytes_per_format()
    {
        var bytes = new Dictionary<string, long>();
        foreach (var q in new[] { "none", "int8", "nf4" })
        {
            await using var factory = new ApiFactory(extra: new Dictionary<string, string?> { ["Model:Quantization"] = q });
            var client = await factory.ReadyAsync();
            using var doc = JsonDocument.Parse(await client.GetStringAsync("/v1/engine"));
            var weights = doc.RootElement.GetProperty("weights");
            Assert.Equal(q, weights.GetProperty("quantization").GetString());
            Assert.Equal("float32", weights.GetProperty("dtype").GetString());
            bytes[q] = weights.GetProperty("resident_bytes").GetInt64();
            var completion = await client.PostAsync("/v1/completions", new StringContent("""{"prompt":"Hello","max_tokens":3,"temperature":0}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(completion.IsSuccessStatusCode, await completion.Content.ReadAsStringAsync());
        }

        Assert.True(bytes["none"] > bytes["int8"] && bytes["int8"] > bytes["nf4"], string.Join(", ", bytes));
    }
}
