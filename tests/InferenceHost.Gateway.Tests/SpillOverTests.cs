using System.Net;
using InferenceHost.Gateway.Routing;
using Microsoft.Extensions.DependencyInjection;
using InferenceHost.Gateway.Tests.Harness;

namespace InferenceHost.Gateway.Tests;

/// <summary>One adapter made hot on replicas that admit only a few requests at a time.</summary>
public sealed class SpillOverTests
{
    // Two batch rows and three queue places per replica: a sixth request at once is refused with 429.
    private static readonly Dictionary<string, string?> SmallReplicas = new() { ["Engine:MaxBatchSize"] = "2", ["Engine:MaxQueuedRequests"] = "3" };

    [Fact]
    public async Task A_hot_adapter_spreads_beyond_its_owner_and_the_owner_stops_refusing()
    {
        await using var cluster = await Cluster.StartAsync(SyntheticAdapters.TwelveDir, settings: SmallReplicas);
        var pinned = await cluster.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:Routing:SpillOver"] = "false", ["Gateway:MaxRetries"] = "0" });
        var spilling = await cluster.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:Routing:MaxLoadPerReplica"] = "2" });
        string[] hot = ["adapter-0"];
        var owner = (await Requests.CompleteAsync(spilling, hot[0])).Replica;

        // Without spill-over every request goes to the owner, which refuses what it cannot queue (retries are off,
        // so the clients see its 429s). Repeated until it has refused at least once: on a busy machine the clients
        // may not get six requests to it at once on the first try.
        var pinnedRun = new List<StreamOutcome>();
        await Poll.UntilAsync(async () =>
        {
            pinnedRun.AddRange(await HotTrafficAsync(pinned, hot, rounds: 1));
            return pinnedRun.Any(o => o.Status == HttpStatusCode.TooManyRequests);
        }, "the owner refusing the pinned hot adapter");
        Assert.All(pinnedRun, o => Assert.Equal(owner, o.Replica));

        // With spill-over the traffic spreads, and the owner refuses none of it: every answer from every replica
        // passed through this gateway, which counts the 429s it gets per replica. Nine clients: still more than the
        // owner admits alone (5), and two places to spare per replica (15 in all) for what the gateway cannot see
        // at once (a replica still counts a finished stream for a moment; its polled load is up to 200 ms old).
        var spillRun = await HotTrafficAsync(spilling, hot, rounds: 3, clients: 9);
        Assert.All(spillRun, o => Assert.True(o.Succeeded, $"{o.Status} {o.Failure}"));
        Assert.True(spillRun.Select(o => o.Replica).Distinct().Count() >= 2, "the hot adapter stayed on one replica");
        var monitor = cluster.Gateways[1].Services.GetRequiredService<ReplicaMonitor>();
        Assert.Equal(0, monitor.Refusals(owner));
    }

    /// <summary><paramref name="clients"/> clients at once, each sending <paramref name="rounds"/> streaming requests for the hot adapter.</summary>
    private static async Task<List<StreamOutcome>> HotTrafficAsync(HttpClient gateway, string[] hot, int rounds, int clients = 12)
    {
        var runs = await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            var mine = new List<StreamOutcome>();
            for (var i = 0; i < rounds; i++)
            {
                mine.Add(await Streams.RunAsync(gateway, hot[0], maxTokens: 32));
            }

            return mine;
        }));
        return runs.SelectMany(r => r).ToList();
    }
}
