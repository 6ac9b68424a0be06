namespace InferenceHost.Gateway.Routing;

/// <summary>How a request's replica was chosen.</summary>
public enum RouteKind
{
    /// <summary>The key's owner on the ring.</summary>
    Affinity,

    /// <summary>The owner was overloaded: the next replica on the ring that was not.</summary>
    SpillOver,

    /// <summary>No adapter (base model), or every candidate overloaded: the least loaded replica.</summary>
    LeastLoaded,

    /// <summary><see cref="RoutingMode.RoundRobin"/>: the next replica in turn, whatever the request names.</summary>
    RoundRobin,
}

/// <summary><c>Gateway:Routing:Mode</c>.</summary>
public enum RoutingMode
{
    /// <summary>Adapter affinity with spill-over (the default).</summary>
    Affinity,

    /// <summary>Plain round-robin over the healthy replicas, blind to adapters and load: the baseline affinity is compared against.</summary>
    RoundRobin,
}

public sealed record RouteDecision(string Replica, RouteKind Kind, string? Owner);

/// <summary>What the router knows of one replica right now.</summary>
public readonly record struct ReplicaLoad(int Load, bool RecentlyRefused);

/// <summary>
/// The routing rule, free of HTTP and YARP. Adapter requests go to the owner of their adapter combination:
/// for adapters in the catalogue (the replicas' shared adapter directory) the owner comes from consistent
/// hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018): in ring order of their hashes each adapter
/// takes the first replica on its ring walk that holds fewer than ⌈balance · adapters / replicas⌉, so no replica
/// owns more than that many distinct adapters; other keys (combinations, unknown names) take their plain ring
/// owner. When the owner is overloaded (load at or over the limit, or a 429 in the cool-down) the request goes to
/// the next replica on the key's ring walk that is not; when all are, to the least loaded. Requests without an
/// adapter go to the least loaded replica. In <see cref="RoutingMode.RoundRobin"/> every request, adapter or not,
/// goes to the next replica in ordinal order instead (the comparison baseline). Immutable except for two counters.
/// </summary>
public sealed class AffinityRouter
{
    private readonly HashRing ring;
    private readonly Dictionary<string, string> owners = new(StringComparer.Ordinal);
    private readonly int maxLoad;
    private readonly bool spillOver;
    private readonly RoutingMode mode;
    private readonly RoundRobinTurn turn;
    private int tieBreak;

    /// <param name="turn">Round-robin's position; pass the same one to the routers that replace this one (membership changes) so the rotation carries on.</param>
    public AffinityRouter(IEnumerable<string> replicas, IEnumerable<string> catalogue, RouterSettings settings, RoundRobinTurn? turn = null)
    {
        this.turn = turn ?? new RoundRobinTurn();
        ring = new HashRing(replicas, settings.VirtualNodes);
        maxLoad = settings.MaxLoadPerReplica;
        spillOver = settings.SpillOver;
        mode = settings.Mode;
        AssignCatalogue(catalogue.Distinct(StringComparer.Ordinal).ToArray(), settings.Balance);
    }

    public IReadOnlyList<string> Replicas => ring.Replicas;

    /// <summary>The replica that owns <paramref name="key"/> while nothing is overloaded.</summary>
    public string? Owner(string key) =>
        owners.TryGetValue(key, out var owner) ? owner : ring.Preference(key).FirstOrDefault();

    /// <summary>Candidates in order: the owner, then the rest of the key's ring walk.</summary>
    public IReadOnlyList<string> Candidates(string key)
    {
        var walk = ring.Preference(key);
        if (!owners.TryGetValue(key, out var owner) || walk.Count == 0 || walk[0] == owner)
        {
            return walk;
        }

        return [owner, .. walk.Where(r => r != owner)];
    }

    /// <summary>Picks a replica for <paramref name="key"/> (null = base model); null when there is none.</summary>
    public RouteDecision? Pick(string? key, Func<string, ReplicaLoad> load)
    {
        if (ring.Replicas.Count == 0)
        {
            return null;
        }

        if (mode == RoutingMode.RoundRobin)
        {
            var next = ring.Replicas[(int)(turn.Next() % (uint)ring.Replicas.Count)];
            return new RouteDecision(next, RouteKind.RoundRobin, key is null ? null : Owner(key));
        }

        if (key is null)
        {
            return new RouteDecision(LeastLoaded(ring.Replicas, load), RouteKind.LeastLoaded, null);
        }

        var candidates = Candidates(key);
        var owner = candidates[0];
        if (!spillOver)
        {
            return new RouteDecision(owner, RouteKind.Affinity, owner);
        }

        foreach (var c in candidates)
        {
            if (!Overloaded(load(c)))
            {
                return new RouteDecision(c, c == owner ? RouteKind.Affinity : RouteKind.SpillOver, owner);
            }
        }

        return new RouteDecision(LeastLoaded(candidates, load), RouteKind.LeastLoaded, owner);
    }

    private bool Overloaded(ReplicaLoad l) => l.RecentlyRefused || l.Load >= maxLoad;

    private string LeastLoaded(IReadOnlyList<string> replicas, Func<string, ReplicaLoad> load)
    {
        // Refused recently counts as full; ties rotate so equal replicas share the traffic.
        var scored = replicas.Select(r => (Replica: r, Score: load(r) is var l && l.RecentlyRefused ? int.MaxValue : l.Load)).ToArray();
        var best = scored.Min(s => s.Score);
        var ties = scored.Where(s => s.Score == best).ToArray();
        return ties[(int)((uint)Interlocked.Increment(ref tieBreak) % (uint)ties.Length)].Replica;
    }

    private void AssignCatalogue(IReadOnlyList<string> adapters, double balance)
    {
        if (ring.Replicas.Count == 0 || adapters.Count == 0)
        {
            return;
        }

        var cap = (int)Math.Ceiling(balance * adapters.Count / ring.Replicas.Count);
        var counts = ring.Replicas.ToDictionary(r => r, _ => 0, StringComparer.Ordinal);
        foreach (var adapter in adapters.OrderBy(HashRing.Hash).ThenBy(a => a, StringComparer.Ordinal))
        {
            var owner = ring.Preference(adapter).First(r => counts[r] < cap);
            counts[owner]++;
            owners[adapter] = owner;
        }
    }
}

/// <summary>Round-robin's counter, shared by successive routers.</summary>
public sealed class RoundRobinTurn
{
    private int value = -1;

    public uint Next() => (uint)Interlocked.Increment(ref value);
}

/// <summary>The router's knobs (<c>Gateway:Routing</c>).</summary>
public sealed record RouterSettings(int VirtualNodes = 160, double Balance = 1.0, int MaxLoadPerReplica = 16, bool SpillOver = true, RoutingMode Mode = RoutingMode.Affinity);
