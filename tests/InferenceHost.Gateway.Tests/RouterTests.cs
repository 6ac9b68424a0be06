using InferenceHost.Gateway.Routing;

namespace InferenceHost.Gateway.Tests;

/// <summary>The routing rule alone: ring stability, bounded ownership, spill-over order, least-loaded picks.</summary>
public sealed class RouterTests
{
    private static readonly string[] Three = ["10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000"];
    private static readonly string[] Adapters = Enumerable.Range(0, 300).Select(i => $"adapter-{i}").ToArray();

    private static ReplicaLoad Idle(string _) => new(0, false);

    [Fact]
    public void Removing_a_replica_moves_only_its_keys_and_adding_it_back_restores_them()
    {
        var full = new HashRing(Three, 160);
        var without = new HashRing(Three.Where(r => r != Three[1]), 160);
        var before = Adapters.ToDictionary(a => a, a => full.Preference(a)[0]);
        foreach (var a in Adapters)
        {
            var now = without.Preference(a)[0];
            if (before[a] == Three[1])
            {
                Assert.NotEqual(Three[1], now);
                Assert.Equal(full.Preference(a)[1], now); // the next replica on the ring takes it
            }
            else
            {
                Assert.Equal(before[a], now);
            }
        }

        var back = new HashRing(Three.Reverse(), 160);
        Assert.All(Adapters, a => Assert.Equal(before[a], back.Preference(a)[0]));
    }

    [Theory]
    [InlineData(12, 3, 1.0)]
    [InlineData(7, 3, 1.0)]
    [InlineData(12, 3, 1.25)]
    [InlineData(300, 5, 1.25)]
    public void Catalogue_owners_never_exceed_the_balance_bound(int adapters, int replicas, double balance)
    {
        var names = Enumerable.Range(0, adapters).Select(i => $"lora-{i}").ToArray();
        var ids = Enumerable.Range(0, replicas).Select(i => $"127.0.0.1:{5000 + i}").ToArray();
        var router = new AffinityRouter(ids, names, new RouterSettings(Balance: balance));
        var counts = names.GroupBy(n => router.Owner(n)).ToDictionary(g => g.Key!, g => g.Count());
        var cap = (int)Math.Ceiling(balance * adapters / replicas);
        Assert.All(counts.Values, c => Assert.InRange(c, 1, cap));
        Assert.Equal(adapters, counts.Values.Sum());
    }

    [Fact]
    public void Catalogue_ownership_does_not_depend_on_listing_order()
    {
        var a = new AffinityRouter(Three, Adapters, new RouterSettings());
        var b = new AffinityRouter(Three.Reverse(), Adapters.Reverse(), new RouterSettings());
        Assert.All(Adapters, n => Assert.Equal(a.Owner(n), b.Owner(n)));
    }

    [Fact]
    public void An_idle_owner_takes_its_key()
    {
        var router = new AffinityRouter(Three, Adapters, new RouterSettings());
        var d = router.Pick("adapter-5", Idle)!;
        Assert.Equal(RouteKind.Affinity, d.Kind);
        Assert.Equal(router.Owner("adapter-5"), d.Replica);
    }

    [Fact]
    public void An_overloaded_owner_spills_to_the_next_candidate_that_is_not()
    {
        var router = new AffinityRouter(Three, Adapters, new RouterSettings(MaxLoadPerReplica: 4));
        var order = router.Candidates("adapter-9");
        Assert.Equal(3, order.Distinct().Count());

        var d = router.Pick("adapter-9", r => new ReplicaLoad(r == order[0] ? 4 : 0, false))!;
        Assert.Equal((RouteKind.SpillOver, order[1], order[0]), (d.Kind, d.Replica, d.Owner));

        d = router.Pick("adapter-9", r => new ReplicaLoad(r == order[2] ? 0 : 9, false))!;
        Assert.Equal((RouteKind.SpillOver, order[2]), (d.Kind, d.Replica));

        d = router.Pick("adapter-9", r => new ReplicaLoad(0, r == order[0]))!;
        Assert.Equal((RouteKind.SpillOver, order[1]), (d.Kind, d.Replica)); // a recent 429 counts as overloaded
    }

    [Fact]
    public void When_every_candidate_is_overloaded_the_least_loaded_one_is_picked()
    {
        var router = new AffinityRouter(Three, Adapters, new RouterSettings(MaxLoadPerReplica: 2));
        var loads = new Dictionary<string, int> { [Three[0]] = 7, [Three[1]] = 3, [Three[2]] = 5 };
        var d = router.Pick("adapter-1", r => new ReplicaLoad(loads[r], false))!;
        Assert.Equal((RouteKind.LeastLoaded, Three[1]), (d.Kind, d.Replica));
    }

    [Fact]
    public void Without_spill_over_the_owner_always_takes_its_key()
    {
        var router = new AffinityRouter(Three, Adapters, new RouterSettings(MaxLoadPerReplica: 1, SpillOver: false));
        var d = router.Pick("adapter-3", _ => new ReplicaLoad(100, true))!;
        Assert.Equal((RouteKind.Affinity, router.Owner("adapter-3")), (d.Kind, d.Replica));
    }

    [Fact]
    public void Base_model_requests_go_to_the_least_loaded_replica_and_ties_rotate()
    {
        var router = new AffinityRouter(Three, Adapters, new RouterSettings());
        var loads = new Dictionary<string, int> { [Three[0]] = 3, [Three[1]] = 1, [Three[2]] = 1 };
        var picks = Enumerable.Range(0, 6).Select(_ => router.Pick(null, r => new ReplicaLoad(loads[r], false))!).ToArray();
        Assert.All(picks, p => Assert.Equal(RouteKind.LeastLoaded, p.Kind));
        Assert.Equal(new HashSet<string> { Three[1], Three[2] }, picks.Select(p => p.Replica).ToHashSet());
    }

    [Fact]
    public void No_replicas_means_no_decision() =>
        Assert.Null(new AffinityRouter([], Adapters, new RouterSettings()).Pick("adapter-0", Idle));

    [Theory]
    [InlineData("""{"model": "tiny", "prompt": "x"}""", null)]
    [InlineData("""{"model": "lora-a"}""", "lora-a")]
    [InlineData("""{"model": "tiny", "adapters": [{"name": "b"}, {"name": "a", "weight": 0.5}]}""", "a+b")]
    [InlineData("""{"model": "c", "adapters": [{"name": "a"}, {"name": "c"}]}""", "a+c")]
    [InlineData("""{"prompt": "no model"}""", null)]
    public void The_routing_key_is_the_sorted_adapter_combination(string body, string? key)
    {
        var requested = RequestedModel.Parse(System.Text.Encoding.UTF8.GetBytes(body))!;
        Assert.Equal(key, requested.Key(["tiny"]));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    [InlineData("")]
    public void A_body_that_is_not_a_json_object_has_no_key(string body) =>
        Assert.Null(RequestedModel.Parse(System.Text.Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Round_robin_sends_each_request_to_the_next_replica_whatever_it_names()
    {
        var turn = new RoundRobinTurn();
        var router = new AffinityRouter(Three, Adapters, new RouterSettings(Mode: RoutingMode.RoundRobin), turn);
        var picks = Enumerable.Range(0, 9).Select(i => router.Pick(i % 3 == 0 ? null : "adapter-7", Idle)!).ToArray();
        Assert.All(picks, p => Assert.Equal(RouteKind.RoundRobin, p.Kind));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => Three[i % 3]), picks.Select(p => p.Replica));

        // A router built for new members (a retry's smaller set, a replica joining) carries the rotation on.
        var two = new AffinityRouter(Three.Take(2), Adapters, new RouterSettings(Mode: RoutingMode.RoundRobin), turn);
        Assert.Equal(Three[9 % 2], two.Pick("adapter-7", Idle)!.Replica); // turn 9, two members
        Assert.Equal(Three[10 % 3], router.Pick("adapter-7", Idle)!.Replica); // turn 10, three members
    }

    [Fact]
    public void Affinity_mode_keeps_one_adapter_on_one_replica_where_round_robin_spreads_it()
    {
        var affinity = new AffinityRouter(Three, Adapters, new RouterSettings());
        var roundRobin = new AffinityRouter(Three, Adapters, new RouterSettings(Mode: RoutingMode.RoundRobin));
        Assert.Single(Enumerable.Range(0, 12).Select(_ => affinity.Pick("adapter-7", Idle)!.Replica).Distinct());
        Assert.Equal(3, Enumerable.Range(0, 12).Select(_ => roundRobin.Pick("adapter-7", Idle)!.Replica).Distinct().Count());
    }
}
