using System.Text;
using System.Text.Json;
using InferenceHost.Fuzz.Run;
using InferenceHost.Fuzz.Send;
using InferenceHost.Fuzz.Target;

namespace InferenceHost.Fuzz.Soak;

/// <summary>What a soak saw: statuses, swap latencies, probe rounds, memory samples (thread-safe).</summary>
public sealed class SoakStats(long? rssStart)
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, int> _statuses = new(StringComparer.Ordinal);
    private readonly List<double> _loadMs = [];
    private readonly List<double> _unloadMs = [];
    private readonly List<string> _swapFailures = [];
    private readonly List<string> _probeDifferences = [];
    private readonly List<(double Second, double MiB)> _rss = [];
    private int _requests;
    private int _serverErrors;
    private int _resets;
    private int _otherFailures;
    private int _probeRounds;

    public void Add(Outcome o, bool swapTarget)
    {
        lock (_gate)
        {
            _requests++;
            _statuses[o.Status] = _statuses.GetValueOrDefault(o.Status) + 1;
            _serverErrors += o.IsServerError ? 1 : 0;
            _resets += o.IsReset ? 1 : 0;
            // Valid traffic must succeed; only the swapped adapter may be missing (404) between its load and unload.
            _otherFailures += o.Code == 200 || (swapTarget && o.Code == 404) || o.IsServerError || o.IsReset ? 0 : 1;
        }
    }

    public void Swap(Outcome load, Outcome unload)
    {
        lock (_gate)
        {
            _loadMs.Add(load.Ms);
            _unloadMs.Add(unload.Ms);
            if (load.Code != 201 || unload.Code != 200)
            {
                _swapFailures.Add($"load {load.Status} / unload {unload.Status}: {load.Problem ?? load.Excerpt}");
            }
        }
    }

    public void Probe(List<string> differences)
    {
        lock (_gate)
        {
            _probeRounds++;
            _probeDifferences.AddRange(differences.Select(d => $"round {_probeRounds}: {d}"));
        }
    }

    public void Sample(double second, long? rss)
    {
        if (rss is { } bytes)
        {
            lock (_gate)
            {
                _rss.Add((Math.Round(second), ProcessMemory.MiB(bytes)));
            }
        }
    }

    public SoakReport Report(SoakSettings s, FuzzTarget target, double seconds, int probes)
    {
        lock (_gate)
        {
            var start = rssStart is { } b ? ProcessMemory.MiB(b) : (double?)null;
            var end = _rss.Count > 0 ? _rss[^1].MiB : (double?)null;
            var growth = start is { } a && end is { } z ? z - a : (double?)null;
            var alive = target.Alive;
            var checks = new List<Check>
            {
                new("5xx answers", _serverErrors == 0, $"{_serverErrors} of {_requests} (target 0)"),
                new("connection resets and cut streams", _resets == 0, $"{_resets} (target 0)"),
                new("valid requests answered 200", _otherFailures == 0, $"{_otherFailures} other failures"),
                new("adapter load/unload every interval", _swapFailures.Count == 0 && _loadMs.Count > 0, $"{_loadMs.Count} swaps, {_swapFailures.Count} failed"),
                new("temperature-0 probes identical to the first answers", _probeDifferences.Count == 0, $"{_probeRounds} rounds of {probes} probes, {_probeDifferences.Count} differ"),
                new("server alive", alive != false, alive switch { true => "running", false => target.ExitInfo ?? "exited", null => "not watched" }),
                new("server memory flat", growth is null || growth <= s.MaxRssGrowthMiB, growth is null ? "not measured" : $"RSS {start} MiB at the start, max {_rss.Max(x => x.MiB)}, end {end} (growth {growth:0.0} MiB, limit {s.MaxRssGrowthMiB})"),
            };
            return new SoakReport(target.Url.ToString(), s.Target.LoraMode, Math.Round(seconds, 1), _requests, new(_statuses), Summary(_loadMs), Summary(_unloadMs),
                [.. _swapFailures.Take(50)], [.. _probeDifferences.Take(50)], [.. _rss], checks);
        }
    }

    private static string Summary(List<double> ms)
    {
        if (ms.Count == 0)
        {
            return "none";
        }

        var sorted = ms.Order().ToArray();
        return $"n={sorted.Length} p50 {sorted[sorted.Length / 2]:0.0} ms, p99 {sorted[(int)(sorted.Length * 0.99)]:0.0} ms, max {sorted[^1]:0.0} ms";
    }
}

/// <summary>A soak's figures; written as soak-report.json and soak-report.md.</summary>
public sealed record SoakReport(string Target, string LoraMode, double Seconds, int Requests, SortedDictionary<string, int> ByStatus, string LoadLatency,
    string UnloadLatency, IReadOnlyList<string> SwapFailures, IReadOnlyList<string> ProbeDifferences, IReadOnlyList<(double Second, double MiB)> Rss, IReadOnlyList<Check> Checks)
{
    public bool Passed => Checks.All(c => c.Met);

    public void Write(string outDir)
    {
        File.WriteAllText(Path.Combine(outDir, "soak-report.json"), JsonSerializer.Serialize(this, new JsonSerializerOptions(OffenderStore.Json) { IncludeFields = true }));
        var md = new StringBuilder($"# Soak: Lora:Mode={LoraMode}, {Seconds:0} s, {Requests} requests against {Target}\n\n| check | met | figure |\n|---|---|---|\n");
        foreach (var c in Checks)
        {
            md.Append($"| {c.Name} | {(c.Met ? "yes" : "**NO**")} | {c.Detail} |\n");
        }

        md.Append($"\nStatuses: {string.Join(", ", ByStatus.Select(kv => $"{kv.Key} x{kv.Value}"))}\n\nLoad: {LoadLatency}. Unload: {UnloadLatency}.\n");
        md.Append($"\nRSS (MiB) every 30 s: {string.Join(", ", Rss.Where((_, i) => i % 30 == 0).Select(x => $"{x.Second:0}s {x.MiB}"))}\n");
        foreach (var line in SwapFailures.Concat(ProbeDifferences))
        {
            md.Append($"- {line.Replace("\n", " ", StringComparison.Ordinal)}\n");
        }

        File.WriteAllText(Path.Combine(outDir, "soak-report.md"), md.ToString());
    }
}
