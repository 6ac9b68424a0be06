using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace InferenceHost.LoadTests.Tests;

/// <summary>
/// A minimal OpenAI-style completions server on 127.0.0.1 (Kestrel, random port): streams max_tokens text chunks
/// with a small delay, then a usage chunk and [DONE]; answers 429 (Retry-After: 1) when more than
/// <see cref="ConcurrencyCap"/> requests are in flight; serves /health/ready and a few Prometheus series on /metrics.
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _inFlight;
    private int _served;
    private int _rejected;
    private int _maxBatch;

    public int ConcurrencyCap { get; init; } = 4;
    public int TokenDelayMs { get; init; } = 2;
    public Uri BaseUrl { get; private set; } = null!;
    public ConcurrentQueue<JsonElement> Bodies { get; } = new();
    public int Served => _served;
    public int Rejected => _rejected;

    private FakeOpenAiServer()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/health/ready", () => Results.Ok("ready"));
        _app.MapGet("/metrics", () => Results.Text(Metrics(), "text/plain; version=0.0.4"));
        _app.MapPost("/v1/completions", Complete);
    }

    public static async Task<FakeOpenAiServer> StartAsync(int concurrencyCap = 4, int tokenDelayMs = 2)
    {
        var server = new FakeOpenAiServer { ConcurrencyCap = concurrencyCap, TokenDelayMs = tokenDelayMs };
        await server._app.StartAsync();
        server.BaseUrl = new Uri(server._app.Urls.First().TrimEnd('/') + "/");
        return server;
    }

    private string Metrics() => string.Create(CultureInfo.InvariantCulture, $$"""
        # HELP fake_requests_total Requests served.
        # TYPE fake_requests_total counter
        fake_requests_total{status="200"} {{_served}}
        fake_requests_total{status="429"} {{_rejected}}
        # TYPE lora_batch_size_max gauge
        lora_batch_size_max {{_maxBatch}}
        # TYPE lora_merged_switch_total counter
        lora_merged_switch_total {{_served / 10}}
        # TYPE engine_queue_depth gauge
        engine_queue_depth {{_inFlight}}
        lora_batch_size_bucket{le="+Inf"} {{_served}}

        """);

    private async Task Complete(HttpContext context)
    {
        using JsonDocument doc = await JsonDocument.ParseAsync(context.Request.Body);
        JsonElement body = doc.RootElement.Clone();
        Bodies.Enqueue(body);
        int inFlight = Interlocked.Increment(ref _inFlight);
        try
        {
            if (inFlight > ConcurrencyCap)
            {
                Interlocked.Increment(ref _rejected);
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = "1";
                await context.Response.WriteAsJsonAsync(new { error = new { message = "too many requests in flight", type = "rate_limit" } });
                return;
            }
            int current;
            while ((current = _maxBatch) < inFlight && Interlocked.CompareExchange(ref _maxBatch, inFlight, current) != current) { }
            int maxTokens = body.GetProperty("max_tokens").GetInt32();
            context.Response.ContentType = "text/event-stream";
            for (int i = 0; i < maxTokens; i++)
            {
                await Task.Delay(TokenDelayMs, context.RequestAborted);
                await Send(context, $$"""{"id":"cmpl-1","object":"text_completion","choices":[{"index":0,"text":"tok{{i}} ","finish_reason":null}]}""");
            }
            string usage = $"\"usage\":{{\"prompt_tokens\":5,\"completion_tokens\":{maxTokens},\"total_tokens\":{maxTokens + 5}}}";
            await Send(context, "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[]," + usage + "}");
            await Send(context, "[DONE]");
            Interlocked.Increment(ref _served);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static async Task Send(HttpContext context, string data)
    {
        await context.Response.WriteAsync($"data: {data}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
