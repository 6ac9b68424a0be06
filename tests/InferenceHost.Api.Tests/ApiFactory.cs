using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using InferenceHost.Tests.Shared;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace InferenceHost.Api.Tests;

/// <summary>The host over a fixture model, configured in memory; <see cref="ReadyAsync"/> waits for the model.</summary>
public sealed class ApiFactory(string fixture = "tiny-llama", string mode = "unmerged", IDictionary<string, string?>? extra = null)
    : WebApplicationFactory<Program>
{
    public string Fixture => fixture;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Model:Path"] = TestFixtures.ModelDir(fixture),
            ["Adapters:Directory"] = Path.Combine(TestFixtures.ModelDir(fixture), "adapters"),
            ["Lora:Mode"] = mode,
            ["Engine:MaxBatchSize"] = "32",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }

        foreach (var (k, v) in settings)
        {
            builder.UseSetting(k, v);
        }
    }

    /// <summary>Serves on Kestrel at a free loopback port (for real HTTP clients); returns the base URL once ready.</summary>
    public async Task<string> StartOnLoopbackAsync()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        UseKestrel(o => o.Listen(System.Net.IPAddress.Loopback, port));
        StartServer();
        var url = $"http://127.0.0.1:{port}";
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        for (var i = 0; i < 300 && (await http.GetAsync("/health/ready")).StatusCode != System.Net.HttpStatusCode.OK; i++)
        {
            await Task.Delay(50);
        }

        return url;
    }

    public async Task<HttpClient> ReadyAsync(string? key = null)
    {
        var client = CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        for (var i = 0; i < 300; i++)
        {
            if ((await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK)
            {
                return client;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the model did not become ready");
    }
}

internal static class Http
{
    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostJsonAsync(this HttpClient client, string url, object body)
    {
        using var response = await client.PostAsJsonAsync(url, body);
        return (response.StatusCode, await ReadAsync(response));
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostRawAsync(this HttpClient client, string url, string body)
    {
        using var response = await client.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await ReadAsync(response));
    }

    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static int[] Ints(this JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    /// <summary>Asserts an OpenAI-shaped error and returns its message.</summary>
    public static string Error(this (HttpStatusCode Status, JsonElement Body) r, HttpStatusCode expected)
    {
        Assert.Equal(expected, r.Status);
        var error = r.Body.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out _));
        Assert.True(error.TryGetProperty("code", out _));
        return error.GetProperty("message").GetString()!;
    }
}
