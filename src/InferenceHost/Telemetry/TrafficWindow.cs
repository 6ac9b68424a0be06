namespace InferenceHost.Telemetry;

/// <summary>One finished generation, as the traffic window keeps it.</summary>
public readonly record struct TrafficSample(long AtMs, string Adapter, int Tokens, double? TtftMs, double? TpotMs, double E2eMs);

/// <summary>
/// The last <see cref="Span"/> of finished generations in memory (at most <see cref="MaxSamples"/>, the
/// oldest dropped first), so the console can chart request rate, tokens/s and latency percentiles per
/// adapter combination without a metrics backend. Fed where <see cref="InferenceTelemetry"/> records a
/// request; thread-safe. Prometheus' histograms stay the long-term record.
/// </summary>
public sealed class TrafficWindow(TimeProvider clock)
{
    public const int MaxSamples = 100_000;

    public static readonly TimeSpan Span = TimeSpan.FromMinutes(15);

    private readonly object gate = new();
    private readonly Queue<TrafficSample> samples = new();

    public void Add(string adapter, int tokens, TimeSpan? ttft, TimeSpan? tpot, TimeSpan e2e)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        lock (gate)
        {
            samples.Enqueue(new TrafficSample(now, adapter, tokens, ttft?.TotalMilliseconds, tpot?.TotalMilliseconds, e2e.TotalMilliseconds));
            Trim(now);
        }
    }

    /// <summary>The samples of the last <paramref name="window"/>, oldest first, and the time they were taken at.</summary>
    public (long NowMs, IReadOnlyList<TrafficSample> Samples) Snapshot(TimeSpan window)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var from = now - (long)window.TotalMilliseconds;
        lock (gate)
        {
            Trim(now);
            return (now, samples.Where(s => s.AtMs > from).ToArray());
        }
    }

    private void Trim(long now)
    {
        var oldest = now - (long)Span.TotalMilliseconds;
        while (samples.Count > 0 && (samples.Count > MaxSamples || samples.Peek().AtMs <= oldest))
        {
            samples.Dequeue();
        }
    }
}
