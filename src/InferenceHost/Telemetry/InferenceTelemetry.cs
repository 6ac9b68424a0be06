using System.Diagnostics;
using System.Diagnostics.Metrics;
using InferenceHost.Engine;
using InferenceHost.Hosting;

namespace InferenceHost.Telemetry;

/// <summary>
/// The host's <see cref="ActivitySource"/> (one span per API request) and <see cref="Meter"/>: latency
/// histograms, a generated-token counter, and gauges read from the engine's stats and the registry.
/// Each finished generation also goes to the in-memory <see cref="TrafficWindow"/> (the console's charts).
/// </summary>
public sealed class InferenceTelemetry : IDisposable
{
    public const string Name = "InferenceHost";

    public static readonly ActivitySource Source = new(Name);

    private readonly Meter meter;
    private readonly Histogram<double> ttft;
    private readonly Histogram<double> tpot;
    private readonly Histogram<double> e2e;
    private readonly Histogram<double> queue;
    private readonly Counter<long> tokens;
    private readonly Counter<long> requests;
    private readonly TrafficWindow traffic;

    public InferenceTelemetry(IMeterFactory meters, ModelHost host, TrafficWindow traffic)
    {
        this.traffic = traffic;
        meter = meters.Create(Name);
        ttft = meter.CreateHistogram<double>("inference.time_to_first_token", "s", "Time from submission to the first generated token");
        tpot = meter.CreateHistogram<double>("inference.time_per_output_token", "s", "Mean time between output tokens after the first");
        e2e = meter.CreateHistogram<double>("inference.request.duration", "s", "End-to-end generation latency");
        queue = meter.CreateHistogram<double>("inference.queue_time", "s", "Time waiting for a batch row");
        tokens = meter.CreateCounter<long>("inference.tokens.generated", "{token}", "Generated tokens");
        requests = meter.CreateCounter<long>("inference.requests", "{request}", "Finished generations by finish reason");

        EngineStats? Stats() => host.IsReady ? host.Current.Engine.Stats : null;
        meter.CreateObservableGauge("inference.queue.depth", () => Stats()?.QueueDepth ?? 0, "{request}");
        meter.CreateObservableGauge("inference.batch.size", () => Stats()?.LastBatchSize ?? 0, "{sequence}");
        meter.CreateObservableGauge("inference.running", () => Stats()?.Running ?? 0, "{sequence}");
        meter.CreateObservableGauge("inference.lora.slots_in_use", () => Stats()?.SlotsInUse ?? 0, "{slot}");
        meter.CreateObservableGauge("inference.lora.merged_switches", () => Stats()?.MergedSwitches ?? 0, "{switch}");
        meter.CreateObservableGauge("inference.lora.merged_switch_time", () => Stats()?.MergedSwitchTime.TotalSeconds ?? 0, "s");
        meter.CreateObservableGauge("inference.lora.merged", () => Stats()?.Mode == "merged" ? 1 : 0, "{bool}", "1 while a LoRA combination is merged into the weights");
        meter.CreateObservableGauge("inference.lora.slot_hits", () => Stats()?.SlotHits ?? 0, "{hit}");
        meter.CreateObservableGauge("inference.lora.slot_misses", () => Stats()?.SlotMisses ?? 0, "{miss}");
        meter.CreateObservableGauge("inference.adapter_cache.hits", () => host.IsReady ? host.Current.Registry.Hits : 0, "{hit}");
        meter.CreateObservableGauge("inference.adapter_cache.misses", () => host.IsReady ? host.Current.Registry.Misses : 0, "{miss}");
    }

    public void Record(GenerationResult r, string adapter)
    {
        var tags = new TagList { { "adapter", adapter }, { "mode", r.Mode } };
        e2e.Record(r.Total.TotalSeconds, tags);
        queue.Record(r.QueueTime.TotalSeconds, tags);
        TimeSpan? perToken = null;
        if (r.TimeToFirstToken is { } first)
        {
            ttft.Record(first.TotalSeconds, tags);
            if (r.TokenIds.Count > 1)
            {
                perToken = (r.Total - first) / (r.TokenIds.Count - 1);
                tpot.Record(perToken.Value.TotalSeconds, tags);
            }
        }

        tokens.Add(r.TokenIds.Count, tags);
        traffic.Add(adapter, r.TokenIds.Count, r.TimeToFirstToken, perToken, r.Total);
        tags.Add("finish_reason", r.Finish.ToString().ToLowerInvariant());
        requests.Add(1, tags);
    }

    public void Dispose() => meter.Dispose();
}
