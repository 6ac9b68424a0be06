using System.Collections.Concurrent;
using System.Diagnostics;
using InferenceHost.LoadTests.Cli;
using InferenceHost.LoadTests.Client;
using InferenceHost.LoadTests.Metrics;
using InferenceHost.LoadTests.Traffic;

namespace InferenceHost.LoadTests.Runner;

/// <summary>A run's summary plus every attempt (kept for the CDF plots and the JSON file).</summary>
public sealed record RunOutcome(RunSummary Summary, IReadOnlyList<RequestResult> Attempts);

/// <summary>
/// Drives one run: warm-up, a /metrics scrape, the measured traffic (open or closed loop), another scrape.
/// It always ends by itself: no request is issued after --duration, requests still in flight get
/// --drain-timeout more seconds, and each request has its own --request-timeout.
/// </summary>
public sealed class LoadRunner(HttpClient http, Uri baseUrl, RunOptions o, TextWriter log)
{
    private readonly CompletionClient _client = new(http, baseUrl, o);

    public async Task<RunOutcome> RunAsync(CancellationToken ct)
    {
        if (o.WarmupRequests > 0)
            await WarmUpAsync(ct);

        (Dictionary<string, double>? before, string? scrapeError) = await ScrapeAsync(ct);
        var attempts = new ConcurrentQueue<RequestResult>();
        var generator = new RequestGenerator(o);
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        hardStop.CancelAfter(TimeSpan.FromSeconds(o.DurationSeconds + o.DrainTimeoutSeconds));
        DateTimeOffset startedAt = DateTimeOffset.UtcNow;
        long runStart = Stopwatch.GetTimestamp();
        var deadline = TimeSpan.FromSeconds(o.DurationSeconds);
        bool PastDeadline() => Stopwatch.GetElapsedTime(runStart) >= deadline;

        async Task ExecuteAsync(RequestSpec spec)
        {
            for (int attempt = 0; ; attempt++)
            {
                RequestResult r = await _client.SendAsync(spec, runStart, hardStop.Token);
                attempts.Enqueue(r);
                if (r.HttpStatus != 429 || !o.HonorRetryAfter || attempt >= o.MaxRetries || PastDeadline())
                    return;
                double wait = Math.Min(r.RetryAfterSeconds ?? 1.0, o.MaxRetryWaitSeconds);
                try { await Task.Delay(TimeSpan.FromSeconds(wait), hardStop.Token); }
                catch (OperationCanceledException) { return; }
            }
        }

        log.WriteLine($"[{o.Name}] {o.Mode.ToString().ToLowerInvariant()} loop, up to {o.Requests} requests / {o.DurationSeconds} s against {baseUrl}");
        if (o.Mode == LoadMode.Closed)
            await ClosedLoopAsync(generator, ExecuteAsync, PastDeadline);
        else
            await OpenLoopAsync(generator, ExecuteAsync, runStart, hardStop.Token);
        double duration = Stopwatch.GetElapsedTime(runStart).TotalSeconds;

        (Dictionary<string, double>? after, string? scrapeError2) = await ScrapeAsync(ct);
        var list = attempts.ToList();
        RunSummary summary = RunSummary.Build(o, list, duration, startedAt, baseUrl.ToString()) with
        {
            ServerMetrics = MetricDelta.Select(before, after, o.MetricsFilter),
            ServerMetricsError = scrapeError ?? scrapeError2,
        };
        log.WriteLine($"[{o.Name}] {summary.Completed}/{summary.RequestsSent} ok, {summary.RateLimited} x 429, " +
                      $"{summary.RequestThroughput:0.00} req/s, {summary.OutputTokenThroughput:0.0} tok/s, " +
                      $"TTFT p50 {summary.Ttft.P50:0.0} ms, TPOT p50 {summary.Tpot.P50:0.00} ms in {duration:0.0} s");
        return new RunOutcome(summary, list);
    }

    private async Task ClosedLoopAsync(RequestGenerator generator, Func<RequestSpec, Task> execute, Func<bool> pastDeadline)
    {
        int issued = 0;
        async Task Worker()
        {
            while (!pastDeadline() && Interlocked.Increment(ref issued) <= o.Requests)
                await execute(generator.Next());
        }
        await Task.WhenAll(Enumerable.Range(0, o.Concurrency).Select(_ => Task.Run(Worker)));
    }

    private async Task OpenLoopAsync(RequestGenerator generator, Func<RequestSpec, Task> execute, long runStart, CancellationToken stop)
    {
        var arrivals = new ArrivalProcess(o.RequestRate, o.Burstiness, new Random(o.Seed + 4));
        using var cap = o.MaxConcurrency > 0 ? new SemaphoreSlim(o.MaxConcurrency) : null;
        var tasks = new List<Task>();
        double next = 0;
        try
        {
            for (int i = 0; i < o.Requests; i++)
            {
                next += arrivals.NextGapSeconds();
                if (next >= o.DurationSeconds)
                    break;
                TimeSpan wait = TimeSpan.FromSeconds(next) - Stopwatch.GetElapsedTime(runStart);
                if (wait > TimeSpan.Zero)
                    await Task.Delay(wait, stop);
                if (cap is not null)
                    await cap.WaitAsync(stop);
                RequestSpec spec = generator.Next();
                tasks.Add(Task.Run(async () =>
                {
                    try { await execute(spec); }
                    finally { cap?.Release(); }
                }));
            }
        }
        catch (OperationCanceledException) { /* hard stop reached while waiting to issue */ }
        await Task.WhenAll(tasks);
    }

    private async Task WarmUpAsync(CancellationToken ct)
    {
        var options = o with { Seed = o.Seed + 1000, Requests = o.WarmupRequests };
        var generator = new RequestGenerator(options);
        int parallel = Math.Max(1, Math.Min(o.WarmupRequests, o.Mode == LoadMode.Closed ? o.Concurrency : 4));
        int issued = 0, failed = 0;
        long start = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(o.RequestTimeoutSeconds + o.DrainTimeoutSeconds));
        async Task Worker()
        {
            while (Interlocked.Increment(ref issued) <= o.WarmupRequests && !timeout.IsCancellationRequested)
            {
                RequestResult r = await _client.SendAsync(generator.Next(), start, timeout.Token);
                if (!r.Ok)
                    Interlocked.Increment(ref failed);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Task.Run(Worker)));
        log.WriteLine($"[{o.Name}] warm-up: {o.WarmupRequests} requests ({failed} failed) in {Stopwatch.GetElapsedTime(start).TotalSeconds:0.0} s, not counted");
    }

    private async Task<(Dictionary<string, double>?, string?)> ScrapeAsync(CancellationToken ct)
    {
        if (!o.ScrapeMetrics)
            return (null, null);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using HttpResponseMessage response = await http.GetAsync(new Uri(baseUrl, "metrics"), timeout.Token);
            if (!response.IsSuccessStatusCode)
                return (null, $"GET /metrics returned {(int)response.StatusCode}");
            return (PrometheusText.Parse(await response.Content.ReadAsStringAsync(timeout.Token)), null);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return (null, $"GET /metrics failed: {e.Message}");
        }
    }
}
