using System.Globalization;
using System.Text;
using InferenceHost.LoadTests.Metrics;

namespace InferenceHost.LoadTests.Report;

/// <summary>Markdown reports: one run in detail, or a scenario's runs as one table.</summary>
public static class MarkdownReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string RunReport(RunSummary s, IReadOnlyList<string> images)
    {
        var md = new StringBuilder();
        md.AppendLine(Inv, $"# Load test: {s.Name}").AppendLine();
        md.AppendLine(Inv, $"- Target: `{s.Target}`, Lora:Mode `{s.LoraMode}`, started {s.StartedAt:u}");
        md.AppendLine(Inv, $"- Traffic: {s.TrafficMode} loop, {s.Traffic}; {s.Adapters} adapter(s), popularity {s.Popularity}, kind {s.AdapterKind}");
        md.AppendLine(Inv, $"- Requests: {s.RequestsSent} sent of {s.RequestsPlanned} planned, {s.Completed} completed, {s.Failed} failed; {s.Attempts} HTTP attempts, {s.RateLimited} answered 429");
        md.AppendLine(Inv, $"- Duration {F(s.DurationSeconds, "0.00")} s; request throughput {F(s.RequestThroughput, "0.00")} req/s; output-token throughput {F(s.OutputTokenThroughput, "0.0")} tok/s ({s.OutputTokens} tokens)");
        if (s.Goodput is { } goodput)
            md.AppendLine(Inv, $"- Goodput {F(goodput, "0.00")} req/s ({s.GoodRequests} requests within SLOs: {Slos(s)})");
        md.AppendLine().AppendLine("| latency (ms) | n | mean | p50 | p90 | p99 | max |").AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach ((string name, LatencySummary l) in new[] { ("TTFT", s.Ttft), ("ITL", s.Itl), ("TPOT", s.Tpot), ("E2E", s.E2e) })
            md.AppendLine(Inv, $"| {name} | {l.Count} | {F(l.Mean)} | {F(l.P50)} | {F(l.P90)} | {F(l.P99)} | {F(l.Max)} |");
        md.AppendLine().AppendLine("## Errors by status").AppendLine();
        if (s.ErrorsByOutcome.Count == 0)
            md.AppendLine("None.");
        foreach ((string outcome, int count) in s.ErrorsByOutcome)
            md.AppendLine(Inv, $"- `{outcome}`: {count}{(s.SampleErrors.TryGetValue(outcome, out string? e) ? $" (e.g. {Escape(e)})" : "")}");
        md.AppendLine().AppendLine("## Requests by adapter").AppendLine();
        foreach ((string label, int count) in s.RequestsByAdapter.OrderByDescending(kv => kv.Value).Take(40))
            md.AppendLine(Inv, $"- `{label}`: {count}");
        md.AppendLine().AppendLine("## Server metrics (GET /metrics)").AppendLine();
        AppendServerMetrics(md, s);
        if (images.Count > 0)
        {
            md.AppendLine().AppendLine("## Latency CDFs").AppendLine();
            foreach (string image in images)
                md.AppendLine(Inv, $"![{image}]({image})");
        }
        return md.ToString();
    }

    public static string ScenarioReport(string title, IReadOnlyList<RunSummary> runs, IReadOnlyList<string> images)
    {
        var md = new StringBuilder();
        md.AppendLine(Inv, $"# {title}").AppendLine();
        md.AppendLine("Latencies in ms (p50 / p99); throughput in requests/s and output tokens/s; goodput in requests/s within the SLOs.").AppendLine();
        md.AppendLine("| run | Lora:Mode | adapters | popularity | kind | traffic | ok/sent | 429 | other errors | TTFT p50/p99 | ITL p50/p99 | TPOT p50/p99 | E2E p50/p99 | req/s | tok/s | goodput |");
        md.AppendLine("|---|---|---:|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (RunSummary s in runs)
        {
            string other = string.Join(", ", s.ErrorsByOutcome.Where(kv => kv.Key != "429").Select(kv => $"{kv.Key}: {kv.Value}"));
            md.AppendLine(Inv,
                $"| {s.Name} | {s.LoraMode} | {s.Adapters} | {s.Popularity} | {s.AdapterKind} | {s.Traffic} | {s.Completed}/{s.RequestsSent} | {s.RateLimited} | {(other.Length == 0 ? "-" : other)} " +
                $"| {Pair(s.Ttft)} | {Pair(s.Itl)} | {Pair(s.Tpot)} | {Pair(s.E2e)} | {F(s.RequestThroughput)} | {F(s.OutputTokenThroughput, "0.0")} | {(s.Goodput is { } g ? F(g) : "-")} |");
        }
        var metricRuns = runs.Where(r => r.ServerMetrics.Count > 0 || r.ServerMetricsError is not null).ToList();
        if (metricRuns.Count > 0)
        {
            md.AppendLine().AppendLine("## Server metrics per run").AppendLine();
            foreach (RunSummary s in metricRuns)
            {
                md.AppendLine(Inv, $"### {s.Name}").AppendLine();
                AppendServerMetrics(md, s);
                md.AppendLine();
            }
        }
        if (images.Count > 0)
        {
            md.AppendLine().AppendLine("## Figures").AppendLine();
            foreach (string image in images)
                md.AppendLine(Inv, $"![{image}]({image})");
        }
        return md.ToString();
    }

    private static void AppendServerMetrics(StringBuilder md, RunSummary s)
    {
        if (s.ServerMetricsError is not null)
            md.AppendLine(Inv, $"Not available: {Escape(s.ServerMetricsError)}");
        var rows = s.ServerMetrics.Where(m => !PrometheusText.FamilyOf(m.Series).EndsWith("_bucket", StringComparison.Ordinal)).ToList();
        if (rows.Count == 0)
        {
            if (s.ServerMetricsError is null)
                md.AppendLine("No matching series.");
            return;
        }
        md.AppendLine("| series | before | after | delta |").AppendLine("|---|---:|---:|---:|");
        foreach (MetricDelta m in rows.Take(200))
            md.AppendLine(Inv, $"| `{m.Series.Replace("|", "\\|", StringComparison.Ordinal)}` | {G(m.Before)} | {G(m.After)} | {G(m.Delta)} |");
    }

    private static string Slos(RunSummary s)
        => string.Join(", ", new[] { ("TTFT", s.SloTtftMs), ("TPOT", s.SloTpotMs), ("E2E", s.SloE2eMs) }
            .Where(x => x.Item2 is not null).Select(x => $"{x.Item1} <= {F(x.Item2!.Value, "0.##")} ms"));

    private static string Pair(LatencySummary l) => l.Count == 0 ? "-" : $"{F(l.P50, "0.0")} / {F(l.P99, "0.0")}";

    private static string F(double v, string format = "0.00") => v.ToString(format, Inv);

    private static string G(double? v) => v is { } x ? x.ToString("G6", Inv) : "-";

    private static string Escape(string s) => s.Replace("\n", " ", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal);
}
