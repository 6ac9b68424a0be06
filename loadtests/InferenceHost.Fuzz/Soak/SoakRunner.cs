using System.Diagnostics;
using System.Text.Json.Nodes;
using InferenceHost.Fuzz.Cases;
using InferenceHost.Fuzz.Run;
using InferenceHost.Fuzz.Send;
using InferenceHost.Fuzz.Target;

namespace InferenceHost.Fuzz.Soak;

/// <summary>How long and how hard a soak runs.</summary>
public sealed record SoakSettings
{
    public TargetOptions Target { get; init; } = new();

    public double DurationSeconds { get; init; } = 300;

    public int Concurrency { get; init; } = 4;

    public double SwapIntervalSeconds { get; init; } = 1;

    public double ProbeIntervalSeconds { get; init; } = 15;

    public int MaxTokens { get; init; } = 16;

    public int Seed { get; init; } = 1;

    public double MaxRssGrowthMiB { get; init; } = 256;

    public string OutDir { get; init; } = "results/soak";
}

/// <summary>
/// Valid traffic (completions and chat, streamed or not, over the base and every adapter) for a fixed time while one
/// adapter is loaded and unloaded every interval; temperature-0 probes repeated and compared with the first answers; RSS
/// sampled every second.
/// </summary>
public static class SoakRunner
{
    public const string SwapName = "soak-swap";

    public static async Task<SoakReport> RunAsync(SoakSettings s, TextWriter log, CancellationToken ct)
    {
        Directory.CreateDirectory(s.OutDir);
        await using var target = await FuzzTarget.StartAsync(s.Target, s.OutDir, log, ct);
        using var http = new HttpSender(target.Url, target.Authorization, TimeSpan.FromSeconds(60));
        var (context, _) = await Discovery.RunAsync(http, target, ct);
        if (context.ValidAdapterDir is null)
        {
            throw new InvalidOperationException("the soak needs a LoRA in the model's adapters folder and a writable adapter root (start the server here, or give --adapter-root)");
        }

        string[] probeModels = [context.BaseModel, .. context.Loras];
        var first = await Probes.RunAsync(http.Client, target.Url, target.Authorization, probeModels, ct);
        var stats = new SoakStats(target.Rss());
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(s.DurationSeconds);
        var workers = Enumerable.Range(0, s.Concurrency).Select(i => TrafficAsync(http, context, s, s.Seed + i, stats, () => clock.Elapsed < deadline, ct));
        var swapper = SwapAsync(http, context.ValidAdapterDir, s, stats, () => clock.Elapsed < deadline, ct);
        var prober = Task.Run(async () =>
        {
            while (clock.Elapsed < deadline)
            {
                await Task.Delay(TimeSpan.FromSeconds(s.ProbeIntervalSeconds), ct);
                stats.Probe(Probes.Differences(first, await Probes.RunAsync(http.Client, target.Url, target.Authorization, probeModels, ct)));
            }
        }, ct);
        var sampler = Task.Run(async () =>
        {
            while (clock.Elapsed < deadline)
            {
                stats.Sample(clock.Elapsed.TotalSeconds, target.Rss());
                await Task.Delay(1000, ct);
            }
        }, ct);
        await Task.WhenAll([.. workers, swapper, prober, sampler]);
        stats.Probe(Probes.Differences(first, await Probes.RunAsync(http.Client, target.Url, target.Authorization, probeModels, ct)));
        var report = stats.Report(s, target, clock.Elapsed.TotalSeconds, first.Count);
        report.Write(s.OutDir);
        return report;
    }

    private static async Task TrafficAsync(HttpSender http, FuzzContext c, SoakSettings s, int seed, SoakStats stats, Func<bool> running, CancellationToken ct)
    {
        var r = new Random(seed);
        while (running())
        {
            var chat = r.Coin();
            var body = chat ? c.Chat(r) : c.Completion(r);
            body["max_tokens"] = s.MaxTokens;
            body["stream"] = r.Coin();
            if (r.Coin(8))
            {
                body["model"] = SwapName; // 404 while it is unloaded, an answer while it is loaded
            }

            var path = chat ? Routes.Chat : Routes.Completions;
            stats.Add(await http.SendAsync(Pick.Json("soak", "traffic", path, body), ct), body["model"]!.GetValue<string>() == SwapName);
        }
    }

    private static async Task SwapAsync(HttpSender http, string dir, SoakSettings s, SoakStats stats, Func<bool> running, CancellationToken ct)
    {
        var half = TimeSpan.FromSeconds(s.SwapIntervalSeconds / 2);
        while (running())
        {
            var load = await http.SendAsync(Pick.Json("soak", "load", Routes.Adapters, new JsonObject { ["name"] = SwapName, ["path"] = dir }), ct);
            await Task.Delay(half, ct);
            var unload = await http.SendAsync(new FuzzCase { Family = "soak", Description = "unload", Method = "DELETE", Path = $"{Routes.Adapters}/{SwapName}", ContentType = null }, ct);
            stats.Swap(load, unload);
            await Task.Delay(half, ct);
        }
    }
}
