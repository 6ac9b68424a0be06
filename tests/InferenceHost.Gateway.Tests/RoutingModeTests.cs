using System.Net;
using InferenceHost.Gateway.Tests.Harness;
using Microsoft.Extensions.Options;

namespace InferenceHost.Gateway.Tests;

/// <summary>Gateway:Routing:Mode through the whole gateway, and the replicas' slot counts on its /metrics.</summary>
public sealed class RoutingModeTests
{
    [Fact]
    public async Task Round_robin_mode_spreads_one_adapter_over_every_replica_and_metrics_show_their_slot_loads()
    {
        await using var cluster = await Cluster.StartAsync(SyntheticAdapters.TwelveDir);
        var gateway = await cluster.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:Routing:Mode"] = "round-robin" });

        var replicas = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var (status, replica) = await Requests.CompleteAsync(gateway, "adapter-5");
            Assert.Equal(HttpStatusCode.OK, status);
            replicas.Add(replica);
        }

        Assert.Equal(cluster.Replicas.Select(r => r.Id).Order(), replicas.Distinct().Order());
        Assert.All(replicas.GroupBy(r => r), g => Assert.Equal(2, g.Count()));

        // Every replica loaded adapter-5 into a slot once (round-robin's cost); the gateway's scrape says so.
        await Poll.UntilAsync(async () =>
        {
            var text = await gateway.GetStringAsync("/metrics");
            return cluster.Replicas.All(r => text.Contains($"gateway_replica_slot_misses{{otel_scope_name=\"InferenceHost.Gateway\",replica=\"{r.Id}\"}} 1"));
        }, "slot misses of every replica on the gateway's /metrics", seconds: 30); // the gateway polls each replica every 0.5 s (Gateway:Health:IntervalSeconds); 30 s bounds a hang, not the speed of a loaded 2-core machine (10 s timed out once with every test project running)
    }

    [Fact]
    public void An_unknown_mode_stops_the_gateway_naming_the_key()
    {
        var e = Assert.Throws<OptionsValidationException>(() => Hosting.GatewayApp.Build(["--Gateway:Replicas:0=http://127.0.0.1:1", "--Gateway:Routing:Mode=random"]));
        Assert.Contains("Gateway:Routing:Mode", e.Message);
    }
}
