namespace InferenceHost.Telemetry;

/// <summary>Nearest-rank percentiles of one latency (milliseconds).</summary>
public sealed record Percentiles(double P50, double P90, double P99)
{
    /// <summary>The smallest value with at least p·n values at or below it; null when there are none.</summary>
    public static Percentiles? Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Percentiles(At(0.50), At(0.90), At(0.99));
    }
}

/// <summary>Per-bucket values, one entry per bucket (null where the bucket had no sample of that kind).</summary>
public sealed record TrafficSeries(
    double[] RequestsPerSecond,
    double[] TokensPerSecond,
    double?[] TtftP50Ms,
    double?[] TtftP90Ms,
    double?[] TtftP99Ms,
    double?[] TpotP50Ms,
    double?[] TpotP90Ms,
    double?[] TpotP99Ms);

/// <summary>One adapter combination's (or all traffic's) figures over the window, and its series.</summary>
public sealed record TrafficGroup(
    int Requests,
    long Tokens,
    double RequestsPerSecond,
    double TokensPerSecond,
    Percentiles? TtftMs,
    Percentiles? TpotMs,
    Percentiles? E2eMs,
    TrafficSeries Series);

/// <summary>
/// What <c>GET /v1/traffic</c> returns: the summary of each group is over the last <c>window</c> up to
/// now; the series are over whole buckets of <c>step</c> aligned to the clock (the bucket still filling is
/// left out), so a chart's points do not move between polls. <see cref="Buckets"/> are bucket starts (Unix ms).
/// </summary>
public sealed record TrafficReport(long Now, int WindowSeconds, int StepSeconds, long[] Buckets, TrafficGroup Total, IReadOnlyDictionary<string, TrafficGroup> Adapters)
{
    public static TrafficReport Build(long nowMs, IReadOnlyList<TrafficSample> samples, int windowSeconds, int stepSeconds)
    {
        var stepMs = stepSeconds * 1000L;
        var end = nowMs / stepMs * stepMs; // start of the bucket still filling
        var count = windowSeconds / stepSeconds;
        var buckets = Enumerable.Range(0, count).Select(i => end - ((count - i) * stepMs)).ToArray();
        var windowStart = nowMs - (windowSeconds * 1000L);
        var adapters = samples.GroupBy(s => s.Adapter, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => Group(g.ToArray(), windowStart, buckets, stepMs, windowSeconds), StringComparer.Ordinal);
        return new TrafficReport(nowMs, windowSeconds, stepSeconds, buckets, Group(samples, windowStart, buckets, stepMs, windowSeconds), adapters);
    }

    private static TrafficGroup Group(IReadOnlyList<TrafficSample> all, long windowStart, long[] buckets, long stepMs, int windowSeconds)
    {
        var recent = all.Where(s => s.AtMs > windowStart).ToArray();
        var tokens = recent.Sum(s => (long)s.Tokens);
        return new TrafficGroup(
            recent.Length,
            tokens,
            recent.Length / (double)windowSeconds,
            tokens / (double)windowSeconds,
            Percentiles.Of(recent.Where(s => s.TtftMs is not null).Select(s => s.TtftMs!.Value)),
            Percentiles.Of(recent.Where(s => s.TpotMs is not null).Select(s => s.TpotMs!.Value)),
            Percentiles.Of(recent.Select(s => s.E2eMs)),
            Series(all, buckets, stepMs));
    }

    private static TrafficSeries Series(IReadOnlyList<TrafficSample> all, long[] buckets, long stepMs)
    {
        var first = buckets.Length == 0 ? 0 : buckets[0];
        var perBucket = new List<TrafficSample>[buckets.Length];
        for (var i = 0; i < perBucket.Length; i++)
        {
            perBucket[i] = [];
        }

        foreach (var s in all)
        {
            var i = s.AtMs < first ? -1 : (int)((s.AtMs - first) / stepMs);
            if (i >= 0 && i < perBucket.Length)
            {
                perBucket[i].Add(s);
            }
        }

        var seconds = stepMs / 1000.0;
        var ttft = perBucket.Select(b => Percentiles.Of(b.Where(s => s.TtftMs is not null).Select(s => s.TtftMs!.Value))).ToArray();
        var tpot = perBucket.Select(b => Percentiles.Of(b.Where(s => s.TpotMs is not null).Select(s => s.TpotMs!.Value))).ToArray();
        return new TrafficSeries(
            perBucket.Select(b => b.Count / seconds).ToArray(),
            perBucket.Select(b => b.Sum(s => s.Tokens) / seconds).ToArray(),
            ttft.Select(p => p?.P50).ToArray(),
            ttft.Select(p => p?.P90).ToArray(),
            ttft.Select(p => p?.P99).ToArray(),
            tpot.Select(p => p?.P50).ToArray(),
            tpot.Select(p => p?.P90).ToArray(),
            tpot.Select(p => p?.P99).ToArray());
    }
}
