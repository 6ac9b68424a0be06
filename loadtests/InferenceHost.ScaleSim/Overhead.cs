using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace InferenceHost.ScaleSim;

/// <summary>One round of the overhead benchmark: the same request to the replica directly and through the gateway, alternated.</summary>
public sealed record OverheadRound(int Round, double DirectP50Ms, double GatewayP50Ms, double PairedP50Ms, double DirectP90Ms, double GatewayP90Ms);

/// <summary>
/// The latency the gateway adds on loopback: request i goes to the replica directly when i is even and through
/// the gateway when it is odd (A B A B ...), each timed from send to the last byte of the body, on kept-alive
/// connections. Per round: each side's p50 and p90, and the p50 of the paired differences (gateway request i+1
/// minus direct request i), which cancels most of the machine's drift.
/// </summary>
public static class Overhead
{
    public static async Task<IReadOnlyList<OverheadRound>> RunAsync(Uri direct, Uri gateway, string kind, string model, int requests, int warmup, int rounds, string? apiKey, TextWriter log)
    {
        using var directClient = Client(direct, apiKey);
        using var gatewayClient = Client(gateway, apiKey);
        var body = $$"""{"model": "{{model}}", "prompt": "Hello there", "max_tokens": 1, "temperature": 0}""";

        async Task<double> TimeAsync(HttpClient c)
        {
            using var request = kind == "completion"
                ? new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") }
                : new HttpRequestMessage(HttpMethod.Get, "/v1/engine");
            var start = Stopwatch.GetTimestamp();
            using var response = await c.SendAsync(request, HttpCompletionOption.ResponseContentRead);
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{c.BaseAddress}{request.RequestUri}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }

            return elapsed;
        }

        for (var i = 0; i < warmup; i++)
        {
            await TimeAsync(directClient);
            await TimeAsync(gatewayClient);
        }

        var results = new List<OverheadRound>();
        for (var round = 1; round <= rounds; round++)
        {
            var d = new List<double>(requests);
            var g = new List<double>(requests);
            for (var i = 0; i < requests; i++)
            {
                d.Add(await TimeAsync(directClient));
                g.Add(await TimeAsync(gatewayClient));
            }

            var r = new OverheadRound(round, Percentile(d, 0.5), Percentile(g, 0.5), Percentile(g.Zip(d, (x, y) => x - y).ToList(), 0.5), Percentile(d, 0.9), Percentile(g, 0.9));
            log.WriteLine($"round {round}: direct p50 {r.DirectP50Ms:0.000} ms, gateway p50 {r.GatewayP50Ms:0.000} ms, paired difference p50 {r.PairedP50Ms:0.000} ms");
            results.Add(r);
        }

        return results;
    }

    /// <summary>Nearest-rank percentile.</summary>
    public static double Percentile(IReadOnlyList<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static HttpClient Client(Uri baseAddress, string? apiKey)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (apiKey is { Length: > 0 })
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }
}
