using System.Net;
using System.Net.Http.Json;

namespace InferenceHost.Gateway.Tests.Harness;

/// <summary>How one streaming request ended, seen from the client.</summary>
public sealed record StreamOutcome(string Adapter, HttpStatusCode? Status, string Replica, int Chunks, bool Done, bool ErrorChunk, string? Failure)
{
    /// <summary>The response headers came back 200: the stream had started.</summary>
    public bool Started => Status == HttpStatusCode.OK;

    public bool Succeeded => Started && Done && !ErrorChunk && Failure is null;
}

public static class Streams
{
    /// <summary>A streaming completion read to its end (or to its failure).</summary>
    public static async Task<StreamOutcome> RunAsync(HttpClient gateway, string adapter, int maxTokens)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent.Create(new { model = adapter, prompt = "Once upon a time", max_tokens = maxTokens, temperature = 0, ignore_eos = true, stream = true }),
        };
        HttpResponseMessage response;
        try
        {
            response = await gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return new StreamOutcome(adapter, null, "(none)", 0, false, false, e.Message);
        }

        using (response)
        {
            var replica = Requests.ReplicaOf(response);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return new StreamOutcome(adapter, response.StatusCode, replica, 0, false, false, await response.Content.ReadAsStringAsync());
            }

            int chunks = 0;
            bool done = false, error = false;
            try
            {
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
                while (await reader.ReadLineAsync() is { } line)
                {
                    if (!line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    done |= line == "data: [DONE]";
                    error |= line.StartsWith("data: {\"error\"", StringComparison.Ordinal);
                    chunks++;
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                return new StreamOutcome(adapter, response.StatusCode, replica, chunks, done, error, e.Message);
            }

            return new StreamOutcome(adapter, response.StatusCode, replica, chunks, done, error, null);
        }
    }

    /// <summary>Closed-loop clients cycling through <paramref name="adapters"/> until <paramref name="stop"/> is cancelled.</summary>
    public static async Task<List<StreamOutcome>> LoadAsync(HttpClient gateway, IReadOnlyList<string> adapters, int clients, int maxTokens, CancellationToken stop)
    {
        var outcomes = new List<StreamOutcome>();
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var adapter = adapters[Interlocked.Increment(ref next) % adapters.Count];
                var outcome = await RunAsync(gateway, adapter, maxTokens);
                lock (outcomes)
                {
                    outcomes.Add(outcome);
                }
            }
        }));
        return outcomes;
    }
}
