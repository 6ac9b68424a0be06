using InferenceHost.Gateway.Routing;
using InferenceHost.LoadTests.Cli;

namespace InferenceHost.ScaleSim.Tests;

public sealed class SimulationTests
{
    private static SimSettings Shape(int replicas, int slots, int adapters, Popularity p, RoutingMode mode) =>
        new(replicas, slots, adapters, p, mode, Requests: 20_000, Warmup: 2_000);

    [Fact]
    public void Lru_keeps_the_most_recent_and_evicts_the_least_recent()
    {
        var cache = new SlotCache(2);
        Assert.False(cache.Use("a"));
        Assert.False(cache.Use("b"));
        Assert.True(cache.Use("a"));   // a is now the most recent
        Assert.False(cache.Use("c"));  // evicts b
        Assert.Equal(["a", "c"], cache.Resident.Order());
        Assert.False(cache.Use("b"));  // evicts a
        Assert.Equal(["b", "c"], cache.Resident.Order());
    }

    [Theory]
    [InlineData(3, 4, 12)]
    [InlineData(3, 4, 7)]
    [InlineData(5, 8, 40)]
    [InlineData(16, 8, 128)]
    public void Affinity_hits_every_time_when_the_adapters_fit_in_all_the_slots(int replicas, int slots, int adapters)
    {
        foreach (var p in new[] { Popularity.Uniform, Popularity.Skewed })
        {
            var r = Simulation.Run(Shape(replicas, slots, adapters, p, RoutingMode.Affinity));
            Assert.Equal(0, r.Misses);
            Assert.Equal(1.0, r.HitRate);
        }
    }

    [Fact]
    public void Round_robin_misses_where_affinity_does_not_once_one_replica_cannot_hold_every_adapter()
    {
        var rr = Simulation.Run(Shape(3, 4, 12, Popularity.Uniform, RoutingMode.RoundRobin));
        Assert.InRange(rr.HitRate, 0.2, 0.5); // each replica sees all 12 with 4 slots: about 4/12
    }

    [Theory]
    [InlineData(4, 8, 64, Popularity.Uniform)]
    [InlineData(4, 8, 64, Popularity.Skewed)]
    [InlineData(8, 8, 256, Popularity.Skewed)]
    [InlineData(2, 8, 1024, Popularity.Skewed)]
    public void Affinity_hits_at_least_as_often_as_round_robin(int replicas, int slots, int adapters, Popularity p)
    {
        var affinity = Simulation.Run(Shape(replicas, slots, adapters, p, RoutingMode.Affinity));
        var roundRobin = Simulation.Run(Shape(replicas, slots, adapters, p, RoutingMode.RoundRobin));
        Assert.True(affinity.HitRate >= roundRobin.HitRate, $"affinity {affinity.HitRate:P1} < round-robin {roundRobin.HitRate:P1}");
    }

    [Fact]
    public void Zipf_traffic_hits_more_than_uniform_traffic_of_as_many_adapters()
    {
        var uniform = Simulation.Run(Shape(4, 8, 256, Popularity.Uniform, RoutingMode.RoundRobin));
        var zipf = Simulation.Run(Shape(4, 8, 256, Popularity.Skewed, RoutingMode.RoundRobin));
        Assert.True(zipf.HitRate > uniform.HitRate + 0.2, $"Zipf {zipf.HitRate:P1}, uniform {uniform.HitRate:P1}");
    }

    [Fact]
    public void Replicas_needed_is_the_first_count_that_reaches_the_target()
    {
        var shape = Shape(1, 8, 64, Popularity.Uniform, RoutingMode.Affinity);
        var (n, result) = Simulation.ReplicasNeeded(shape, 1.0, 64)!.Value;
        Assert.Equal(8, n); // 64 adapters / 8 slots: with Balance 1.0 no replica owns more than 8
        Assert.Equal(1.0, result.HitRate);
        Assert.True(Simulation.Run(shape with { Replicas = 7 }).HitRate < 1.0);

        Assert.Null(Simulation.ReplicasNeeded(shape with { Mode = RoutingMode.RoundRobin }, 0.9, 32)); // N does not help round-robin
    }

    [Fact]
    public void A_run_is_repeatable_from_its_seed()
    {
        var shape = Shape(4, 8, 256, Popularity.Skewed, RoutingMode.RoundRobin);
        Assert.Equal(Simulation.Run(shape).Hits, Simulation.Run(shape).Hits);
        Assert.NotEqual(Simulation.Run(shape).Hits, Simulation.Run(shape with { Seed = 2 }).Hits);
    }
}
