using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using InferenceHost.LoadTests.Cli;
using InferenceHost.LoadTests.Metrics;
using InferenceHost.LoadTests.Traffic;

namespace InferenceHost.LoadTests.Client;

/// <summary>Sends one streaming <c>POST /v1/completions</c> and times it chunk by chunk.</summary>
public sealed class CompletionClient(HttpClient http, Uri baseUrl, RunOptions options)
{
    private readonly Uri _endpoint = new(baseUrl, "v1/completions");

    public static string BuildBody(RequestSpec spec, bool ignoreEos)
    {
        var body = new JsonObject
        {
            ["model"] = spec.Model,
            ["prompt"] = spec.Prompt,
            ["max_tokens"] = spec.MaxTokens,
            ["temperature"] = 0,
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
            ["ignore_eos"] = ignoreEos,
        };
        if (spec.Adapters is { Count: > 0 } adapters)
        {
            var list = new JsonArray();
            foreach (AdapterRef a in adapters)
            {
                var item = new JsonObject { ["name"] = a.Name };
                if (a.Weight is { } w)
                    item["weight"] = w;
                list.Add(item);
            }
            body["adapters"] = list;
        }
        return body.ToJsonString();
    }

    /// <param name="runStart">Stopwatch timestamp of the run's start, for the attempt's start offset.</param>
    public async Task<RequestResult> SendAsync(RequestSpec spec, long runStart, CancellationToken ct)
    {
        long t0 = Stopwatch.GetTimestamp();
        var result = new RequestResult
        {
            Index = spec.Index,
            Label = spec.Label,
            StartSeconds = Stopwatch.GetElapsedTime(runStart, t0).TotalSeconds,
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.RequestTimeoutSeconds));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint)
            {
                Content = new StringContent(BuildBody(spec, options.IgnoreEos), Encoding.UTF8, "application/json"),
            };
            using HttpResponseMessage response =
                await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            int status = (int)response.StatusCode;
            result = result with { HttpStatus = status };
            if (!response.IsSuccessStatusCode)
            {
                string body = await response.Content.ReadAsStringAsync(timeout.Token);
                return result with
                {
                    Outcome = status.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Error = CompletionChunk.ErrorFromBody(body),
                    E2eMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds,
                    RetryAfterSeconds = RetryAfter(response),
                };
            }
            await using Stream stream = await response.Content.ReadAsStreamAsync(timeout.Token);
            return await ReadStreamAsync(stream, t0, result, timeout.Token);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return result with { Outcome = "cancelled", Error = "run stopped", E2eMs = Elapsed(t0) };
        }
        catch (OperationCanceledException)
        {
            return result with { Outcome = "timeout", Error = $"no complete response in {options.RequestTimeoutSeconds} s", E2eMs = Elapsed(t0) };
        }
        catch (HttpRequestException e)
        {
            return result with { Outcome = "transport", Error = e.Message, E2eMs = Elapsed(t0) };
        }
        catch (IOException e)
        {
            return result with { Outcome = "transport", Error = e.Message, E2eMs = Elapsed(t0) };
        }
    }

    /// <summary>Reads the event stream with System.Net.ServerSentEvents' parser; each event is timed as it arrives.</summary>
    internal static async Task<RequestResult> ReadStreamAsync(Stream stream, long t0, RequestResult result, CancellationToken ct)
    {
        var itl = new List<double>();
        long? first = null, last = null;
        int chunks = 0;
        int? usageTokens = null, promptTokens = null;
        string? error = null;
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(stream).EnumerateAsync(ct))
        {
            long now = Stopwatch.GetTimestamp();
            CompletionChunk chunk = CompletionChunk.Parse(item.Data);
            if (chunk.Done) break;
            if (chunk.Error is not null) { error ??= chunk.Error; continue; }
            usageTokens = chunk.CompletionTokens ?? usageTokens;
            promptTokens = chunk.PromptTokens ?? promptTokens;
            if (string.IsNullOrEmpty(chunk.Text))
                continue;
            chunks++;
            if (first is null)
                first = now;
            else
                itl.Add(Stopwatch.GetElapsedTime(last!.Value, now).TotalMilliseconds);
            last = now;
        }
        double e2e = Elapsed(t0);
        result = result with
        {
            E2eMs = e2e,
            TtftMs = first is null ? 0 : Stopwatch.GetElapsedTime(t0, first.Value).TotalMilliseconds,
            ItlMs = itl,
            OutputTokens = usageTokens ?? chunks,
            TokensFromUsage = usageTokens is not null,
            PromptTokens = promptTokens,
        };
        if (error is not null)
            return result with { Outcome = "stream-error", Error = error };
        if (first is null)
            return result with { Outcome = "stream-error", Error = "stream ended without any token" };
        return result;
    }

    private static double Elapsed(long t0) => Stopwatch.GetElapsedTime(t0).TotalMilliseconds;

    private static double? RetryAfter(HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.TooManyRequests || response.Headers.RetryAfter is not { } ra)
            return null;
        if (ra.Delta is { } delta)
            return delta.TotalSeconds;
        if (ra.Date is { } date)
            return Math.Max(0, (date - DateTimeOffset.UtcNow).TotalSeconds);
        return null;
    }
}
