using InferenceHost.Gateway.Routing;
using InferenceHost.LoadTests.Cli;
using InferenceHost.LoadTests.Traffic;

namespace InferenceHost.ScaleSim;

/// <summary>One simulated configuration.</summary>
public sealed record SimSettings(
    int Replicas,
    int Slots,
    int Adapters,
    Popularity Popularity,
    RoutingMode Mode,
    double ZipfExponent = 1.1,
    int Requests = 100_000,
    int Warmup = 10_000,
    int Seed = 1);

/// <summary>Steady-state slot hits and misses, over the measured requests.</summary>
public sealed record SimResult(SimSettings Settings, long Hits, long Misses, double BusiestReplicaShare)
{
    public double HitRate => Hits + Misses == 0 ? 0 : (double)Hits / (Hits + Misses);
}

/// <summary>
/// N replicas with S LRU slots each, adapter requests one after another: the gateway's <see cref="AffinityRouter"/>
/// picks the replica (catalogue = every adapter, every replica idle, so affinity never spills over), the load tool's
/// <see cref="AdapterPicker"/> draws the adapter. Warm-up: one request per adapter, then <c>Warmup</c> drawn requests,
/// none counted; then <c>Requests</c> counted. What it leaves out: concurrency (a slot pinned by a running request
/// cannot be evicted, so real replicas with full batches miss a little more) and spill-over under load.
/// </summary>
public static class Simulation
{
    public static SimResult Run(SimSettings s)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(s.Replicas, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(s.Adapters, 1);
        var replicas = Enumerable.Range(0, s.Replicas).Select(i => $"replica-{i}").ToArray();
        var adapters = Enumerable.Range(0, s.Adapters).Select(i => $"adapter-{i}").ToArray();
        var router = new AffinityRouter(replicas, adapters, new RouterSettings(Mode: s.Mode));
        var slots = replicas.ToDictionary(r => r, _ => new SlotCache(s.Slots), StringComparer.Ordinal);
        var served = replicas.ToDictionary(r => r, _ => 0L, StringComparer.Ordinal);
        var picker = new AdapterPicker(adapters, s.Popularity, s.ZipfExponent, baseFraction: 0, new Random(s.Seed));
        static ReplicaLoad Idle(string _) => new(0, false);

        // With every replica idle an affinity pick depends on the adapter alone, so it is asked once per adapter
        // (the ring walk of a 256-replica ring is the slow part); round-robin is asked every time.
        var routes = new Dictionary<string, string>(StringComparer.Ordinal);
        string Route(string adapter) => s.Mode == RoutingMode.Affinity
            ? routes.TryGetValue(adapter, out var r) ? r : routes[adapter] = router.Pick(adapter, Idle)!.Replica
            : router.Pick(adapter, Idle)!.Replica;

        foreach (var a in adapters)
        {
            slots[Route(a)].Use(a);
        }

        for (var i = 0; i < s.Warmup; i++)
        {
            var a = picker.Next()!;
            slots[Route(a)].Use(a);
        }

        long hits = 0, misses = 0;
        for (var i = 0; i < s.Requests; i++)
        {
            var a = picker.Next()!;
            var replica = Route(a);
            served[replica]++;
            if (slots[replica].Use(a))
            {
                hits++;
            }
            else
            {
                misses++;
            }
        }

        return new SimResult(s, hits, misses, s.Requests == 0 ? 0 : (double)served.Values.Max() / s.Requests);
    }

    /// <summary>
    /// The fewest replicas (up to <paramref name="maxReplicas"/>) whose hit rate reaches <paramref name="target"/>;
    /// null when even <paramref name="maxReplicas"/> does not. Doubling, then bisection: the hit rate rises with N
    /// under affinity (fewer adapters per replica), give or take the hash's unevenness, and stays flat under round-robin.
    /// </summary>
    public static (int Replicas, SimResult Result)? ReplicasNeeded(SimSettings shape, double target, int maxReplicas)
    {
        SimResult At(int n) => Run(shape with { Replicas = n });
        var high = 1;
        var best = At(1);
        while (best.HitRate < target)
        {
            if (high == maxReplicas)
            {
                return null;
            }

            high = Math.Min(maxReplicas, high * 2);
            best = At(high);
        }

        var low = high / 2; // below target (or 0)
        while (high - low > 1)
        {
            var mid = (low + high) / 2;
            var r = At(mid);
            if (r.HitRate >= target)
            {
                (high, best) = (mid, r);
            }
            else
            {
                low = mid;
            }
        }

        return (high, best);
    }
}
