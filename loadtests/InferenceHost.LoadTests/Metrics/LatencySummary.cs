using HdrHistogram;

namespace InferenceHost.LoadTests.Metrics;

/// <summary>Mean, p50, p90, p99 and max of one latency figure, in milliseconds.</summary>
public sealed record LatencySummary(long Count, double Mean, double P50, double P90, double P99, double Max)
{
    public static readonly LatencySummary Empty = new(0, 0, 0, 0, 0, 0);

    /// <summary>
    /// Records the samples (ms) in an HdrHistogram at microsecond resolution with 3 significant digits
    /// (percentiles within 0.1%); mean and max are exact.
    /// </summary>
    public static LatencySummary From(IEnumerable<double> samplesMs)
    {
        var histogram = new LongHistogram(HighestMicros, 3);
        long count = 0;
        double sum = 0, max = 0;
        foreach (double ms in samplesMs)
        {
            if (!double.IsFinite(ms) || ms < 0)
                continue;
            histogram.RecordValue(Math.Clamp((long)Math.Round(ms * 1000), 0, HighestMicros));
            count++;
            sum += ms;
            max = Math.Max(max, ms);
        }
        if (count == 0)
            return Empty;
        // HdrHistogram reports a bucket's highest equivalent value; never above the exact max.
        return new LatencySummary(count, sum / count, Math.Min(max, Percentile(histogram, 50)),
            Math.Min(max, Percentile(histogram, 90)), Math.Min(max, Percentile(histogram, 99)), max);
    }

    private const long HighestMicros = 3_600_000_000; // one hour

    private static double Percentile(HistogramBase h, double p) => h.GetValueAtPercentile(p) / 1000.0;
}
