using InferenceHost.LoadTests.Metrics;
using ScottPlot;

namespace InferenceHost.LoadTests.Report;

/// <summary>PNG figures drawn with ScottPlot 5.</summary>
public static class Plots
{
    /// <summary>Empirical CDF of one latency figure (ms) for one or more runs; returns the file written.</summary>
    public static string LatencyCdf(string path, string title, IEnumerable<(string Label, IReadOnlyList<double> Samples)> series)
    {
        var plot = new Plot();
        foreach ((string label, IReadOnlyList<double> samples) in series)
        {
            if (samples.Count == 0)
                continue;
            double[] xs = samples.Order().ToArray();
            double[] ys = Enumerable.Range(1, xs.Length).Select(i => (double)i / xs.Length).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = label;
        }
        plot.Title(title);
        plot.XLabel("milliseconds");
        plot.YLabel("fraction of requests");
        plot.Axes.SetLimitsY(0, 1.02);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 800, 500);
        return path;
    }

    /// <summary>One line per series of (number of adapters, throughput) points; adapters on a log2 axis (1, 2, 8, 32 ...).</summary>
    public static string ThroughputVsAdapters(string path, string yLabel,
        IEnumerable<(string Label, IReadOnlyList<(double Adapters, double Value)> Points)> series)
    {
        var plot = new Plot();
        var ticks = new SortedSet<double>();
        foreach ((string label, var points) in series)
        {
            if (points.Count == 0)
                continue;
            var ordered = points.OrderBy(p => p.Adapters).ToArray();
            double[] xs = ordered.Select(p => Math.Log2(Math.Max(1, p.Adapters))).ToArray();
            var line = plot.Add.Scatter(xs, ordered.Select(p => p.Value).ToArray());
            line.LegendText = label;
            ticks.UnionWith(ordered.Select(p => Math.Max(1, p.Adapters)));
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            ticks.Select(Math.Log2).ToArray(), ticks.Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.Title($"{yLabel} vs number of adapters");
        plot.XLabel("adapters (log scale)");
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 800, 500);
        return path;
    }

    /// <summary>The CDF plots of one run (TTFT, TPOT, E2E); returns the file names written.</summary>
    public static List<string> RunCdfs(string dir, string prefix, IReadOnlyList<RequestResult> attempts)
    {
        var ok = attempts.Where(a => a.Ok).ToList();
        var files = new List<string>
        {
            LatencyCdf(Path.Combine(dir, $"{prefix}ttft-cdf.png"), "TTFT CDF", [(prefix.TrimEnd('-'), ok.Select(r => r.TtftMs).ToList())]),
            LatencyCdf(Path.Combine(dir, $"{prefix}tpot-cdf.png"), "TPOT CDF",
                [(prefix.TrimEnd('-'), ok.Where(r => r.TpotMs is not null).Select(r => r.TpotMs!.Value).ToList())]),
            LatencyCdf(Path.Combine(dir, $"{prefix}e2e-cdf.png"), "End-to-end latency CDF", [(prefix.TrimEnd('-'), ok.Select(r => r.E2eMs).ToList())]),
        };
        return files.Select(Path.GetFileName).OfType<string>().ToList();
    }
}
