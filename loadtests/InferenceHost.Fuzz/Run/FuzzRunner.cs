using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using InferenceHost.Fuzz.Adapters;
using InferenceHost.Fuzz.Cases;
using InferenceHost.Fuzz.Send;
using InferenceHost.Fuzz.Target;

namespace InferenceHost.Fuzz.Run;

/// <summary>
/// A fuzz run: start (or reach) the server, probe it at temperature 0, send the seeded cases with a few workers
/// while the broken adapters are loaded one by one beside them, probe again, check the process, report.
/// </summary>
public static class FuzzRunner
{
    public static async Task<FuzzReport> RunAsync(FuzzSettings s, TextWriter log, CancellationToken ct)
    {
        Directory.CreateDirectory(s.OutDir);
        var clock = Stopwatch.StartNew();
        await using var target = await FuzzTarget.StartAsync(s.Target, s.OutDir, log, ct);
        using var http = new HttpSender(target.Url, target.Authorization, TimeSpan.FromSeconds(s.RequestTimeoutSeconds));
        var (context, source) = await Discovery.RunAsync(http, target, ct);
        string[] probeModels = [context.BaseModel, .. context.Loras, .. context.SoftPrompts];
        var before = await Probes.RunAsync(http.Client, target.Url, target.Authorization, probeModels, ct);
        log.WriteLine($"probes before: {before.Count} answers from {string.Join(", ", probeModels)}");

        using var memory = new MemorySampler(target);
        var recorder = new Recorder(new OffenderStore(Path.Combine(s.OutDir, "offenders")));
        var cases = Families.Generator(s.Seed, s.Requests, context, target.Authorization ?? "Bearer none", s.Families).ToList();
        var kinds = s.AdapterKinds is null ? AdapterAttack.AllKinds : AdapterAttack.AllKinds.Where(k => s.AdapterKinds.Contains(k.Name) || s.AdapterKinds.Contains(k.Group)).ToList();
        var adapters = target.AdapterRoot is { } root && source is not null && kinds.Count > 0
            ? AdapterAttack.RunAsync(http, root, source, kinds, TimeSpan.FromSeconds(s.AdminBoundSeconds), recorder.Add, ct)
            : Task.FromResult(new List<AdapterResult>());
        log.WriteLine($"sending {cases.Count} cases (seed {s.Seed}, {s.Concurrency} at a time) and {(target.AdapterRoot is null ? 0 : kinds.Count)} broken adapters");
        var timeout = TimeSpan.FromSeconds(s.RequestTimeoutSeconds);
        var partial = TimeSpan.FromSeconds(s.PartialWaitSeconds);
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = s.Concurrency, CancellationToken = ct },
            async (c, token) => recorder.Add(c, await SendAsync(http, target.Url, c, timeout, partial, token)));
        var adapterResults = await adapters;

        var after = await Probes.RunAsync(http.Client, target.Url, target.Authorization, probeModels, ct);
        var live = await http.SendAsync(new FuzzCase { Family = "liveness", Description = "GET /health/live", Method = "GET", Path = "/health/live", ContentType = null }, ct);
        var (rssStart, rssPeak) = memory.Stop();
        var rssEnd = target.Rss();
        var report = Report(s, target, recorder, adapterResults, before, after, target.Alive, live, rssStart, rssPeak, rssEnd, clock.Elapsed.TotalSeconds);
        report.Write(s.OutDir);
        return report;
    }

    /// <summary>Sends one case; a failure on the fuzzer's own side is counted apart, never as the server's.</summary>
    public static async Task<Outcome> SendAsync(HttpSender http, Uri url, FuzzCase c, TimeSpan timeout, TimeSpan partial, CancellationToken ct)
    {
        try
        {
            return c.Raw is null ? await http.SendAsync(c, ct) : await RawSender.SendAsync(url, c, timeout, partial, ct);
        }
        catch (SocketException e)
        {
            return new(Outcome.Reset, 0, $"could not connect: {e.Message}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or NotSupportedException)
        {
            return new("client-error", 0, $"the fuzzer could not send it: {e.Message}");
        }
    }

    private static FuzzReport Report(FuzzSettings s, FuzzTarget target, Recorder r, List<AdapterResult> adapters, IReadOnlyDictionary<string, string> before,
        IReadOnlyDictionary<string, string> after, bool? alive, Outcome live, long? rssStart, long? rssPeak, long? rssEnd, double seconds)
    {
        var differences = Probes.Differences(before, after);
        var refused = adapters.Count(a => a.Ok);
        var growth = rssStart is { } a0 && rssEnd is { } a1 ? ProcessMemory.MiB(a1 - a0) : (double?)null;
        var checks = new List<Check>
        {
            new("5xx answers", r.ServerErrors == 0, $"{r.ServerErrors} of {r.Sent} (target 0)"),
            new("connection resets and cut streams", r.Resets == 0, $"{r.Resets} (target 0)"),
            new("hangs", r.Hangs == 0, $"{r.Hangs} without a complete answer in {s.RequestTimeoutSeconds:0} s (target 0)"),
            new("malformed streams and bodies", r.BadBodies == 0, $"{r.BadBodies} (target 0)"),
            new("broken adapters answered as expected within the bound", refused == adapters.Count,
                $"{refused} of {adapters.Count} within {s.AdminBoundSeconds:0} s{string.Concat(adapters.Where(x => !x.Ok).Select(x => $"; {x.Kind}: {x.Problem}"))}"),
            new("temperature-0 probes identical before and after", differences.Count == 0 && before.Count > 0, $"{before.Count} probes, {differences.Count} differ"),
            new("server alive", alive != false && live.Code == 200, $"process {(alive switch { true => "running", false => target.ExitInfo ?? "exited", null => "not watched" })}, /health/live {live.Status}"),
            new("server memory", growth is null || growth <= s.MaxRssGrowthMiB,
                growth is null ? "not measured (no process id)" : $"RSS {ProcessMemory.MiB(rssStart!.Value)} MiB after the first probes, peak {ProcessMemory.MiB(rssPeak ?? 0)}, end {ProcessMemory.MiB(rssEnd!.Value)} (growth {growth} MiB, limit {s.MaxRssGrowthMiB})"),
        };
        return new FuzzReport
        {
            Seed = s.Seed, Target = target.Url.ToString(), Seconds = Math.Round(seconds, 1), Requests = r.Sent, ByStatus = r.ByStatus, ByFamily = r.ByFamily,
            ServerErrors = r.ServerErrors, Resets = r.Resets, Hangs = r.Hangs, BadBodies = r.BadBodies, Unshaped4xx = r.Unshaped, Offences = r.Offences,
            Adapters = adapters, Probes = before.Count, ProbeDifferences = differences, ServerAlive = alive,
            RssStartMiB = rssStart is { } x ? ProcessMemory.MiB(x) : null, RssPeakMiB = rssPeak is { } y ? ProcessMemory.MiB(y) : null,
            RssEndMiB = rssEnd is { } z ? ProcessMemory.MiB(z) : null, Checks = checks,
        };
    }
}

/// <summary>Samples the server's RSS twice a second until stopped.</summary>
public sealed class MemorySampler : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly long? _start;
    private long _peak;

    public MemorySampler(FuzzTarget target)
    {
        _start = target.Rss();
        _peak = _start ?? 0;
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Interlocked.Exchange(ref _peak, Math.Max(Interlocked.Read(ref _peak), target.Rss() ?? 0));
                try
                {
                    await Task.Delay(500, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
    }

    public (long? Start, long? Peak) Stop()
    {
        _stop.Cancel();
        _loop.Wait();
        return (_start, _start is null ? null : Interlocked.Read(ref _peak));
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
