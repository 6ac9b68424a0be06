using System.Diagnostics.Metrics;
using InferenceHost.Gateway.Routing;

namespace InferenceHost.Gateway.Telemetry;

/// <summary>
/// The gateway's <see cref="Meter"/> (exported on <c>/metrics</c> beside ASP.NET Core's and YARP's own): requests
/// per replica and status, routing decisions (affinity hits, spill-overs, least-loaded picks), retries, broken
/// streams, and the latency the gateway adds before a replica's response headers reach the client.
/// </summary>
public sealed class GatewayTelemetry : IDisposable
{
    public const string Name = "InferenceHost.Gateway";

    private readonly Meter meter;
    private readonly Counter<long> requests;
    private readonly Counter<long> affinityHits;
    private readonly Counter<long> spillOvers;
    private readonly Counter<long> leastLoaded;
    private readonly Counter<long> roundRobin;
    private readonly Counter<long> retries;
    private readonly Counter<long> brokenStreams;
    private readonly Histogram<double> added;

    public GatewayTelemetry(IMeterFactory meters)
    {
        meter = meters.Create(Name);
        requests = meter.CreateCounter<long>("gateway.requests", "{request}", "Requests answered, by replica and status");
        affinityHits = meter.CreateCounter<long>("gateway.affinity.hits", "{request}", "Adapter requests sent to their key's owner");
        spillOvers = meter.CreateCounter<long>("gateway.spillovers", "{request}", "Adapter requests sent past an overloaded owner");
        leastLoaded = meter.CreateCounter<long>("gateway.least_loaded", "{request}", "Requests sent to the least loaded replica (base model, or every candidate overloaded)");
        roundRobin = meter.CreateCounter<long>("gateway.round_robin", "{request}", "Requests routed in turn (Gateway:Routing:Mode round-robin)");
        retries = meter.CreateCounter<long>("gateway.retries", "{retry}", "Requests retried on the next replica before their first byte, by reason");
        brokenStreams = meter.CreateCounter<long>("gateway.streams.broken", "{stream}", "Streams whose replica failed after the first byte (closed with an error chunk)");
        added = meter.CreateHistogram<double>("gateway.added_latency", "s", "Time from the request's arrival to its response headers, less the replica's own time to headers");
    }

    /// <summary>
    /// Each replica's slot hits and misses (cold slot loads) as last polled from its <c>/v1/engine</c>
    /// (<c>gateway_replica_slot_hits</c>, <c>gateway_replica_slot_misses</c>, by replica): what routing did to the
    /// replicas' slots, readable from the gateway's one scrape. As fresh as <c>Gateway:LoadPollMilliseconds</c>.
    /// </summary>
    public void ObserveReplicas(Func<IEnumerable<(string Replica, long Hits, long Misses)>> counts)
    {
        meter.CreateObservableGauge("gateway.replica.slot_hits", () => counts().Select(c => new Measurement<long>(c.Hits, new KeyValuePair<string, object?>("replica", c.Replica))), "{hit}", "A replica's slot hits (its slot_hits_total), as last polled");
        meter.CreateObservableGauge("gateway.replica.slot_misses", () => counts().Select(c => new Measurement<long>(c.Misses, new KeyValuePair<string, object?>("replica", c.Replica))), "{miss}", "A replica's slot misses: adapters copied into a slot (its slot_misses_total), as last polled");
    }

    public void Routed(RouteDecision d)
    {
        var tags = new KeyValuePair<string, object?>("replica", d.Replica);
        (d.Kind switch { RouteKind.Affinity => affinityHits, RouteKind.SpillOver => spillOvers, RouteKind.RoundRobin => roundRobin, _ => leastLoaded }).Add(1, tags);
    }

    public void Answered(string replica, int status) =>
        requests.Add(1, new("replica", replica), new("status", status));

    public void Retried(string reason) => retries.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void StreamBroken(string replica) => brokenStreams.Add(1, new KeyValuePair<string, object?>("replica", replica));

    public void AddedLatency(TimeSpan t) => added.Record(Math.Max(0, t.TotalSeconds));

    public void Dispose() => meter.Dispose();
}
