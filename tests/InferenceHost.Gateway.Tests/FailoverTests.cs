using InferenceHost.Gateway.Tests.Harness;

namespace InferenceHost.Gateway.Tests;

/// <summary>A replica killed in the middle of streaming traffic, then started again.</summary>
public sealed class FailoverTests
{
    private static readonly string[] Adapters = Enumerable.Range(0, 12).Select(i => $"adapter-{i}").ToArray();

    [Fact]
    public async Task A_killed_replica_fails_no_request_that_had_not_started_and_its_adapters_move_away_and_back()
    {
        await using var cluster = await Cluster.StartAsync(SyntheticAdapters.TwelveDir);
        var gateway = await cluster.StartGatewayAsync();
        var before = await Requests.MapAsync(gateway, Adapters);
        var victim = cluster.Replicas.FindIndex(r => r.Id == before["adapter-0"]);
        var victimId = cluster.Replicas[victim].Id;
        var itsAdapters = before.Where(kv => kv.Value == victimId).Select(kv => kv.Key).ToArray();

        using var stop = new CancellationTokenSource();
        var load = Streams.LoadAsync(gateway, Adapters, clients: 3, maxTokens: 16, stop.Token);
        await Task.Delay(500);
        await cluster.KillAsync(victim);

        Dictionary<string, string> during = [];
        await Poll.UntilAsync(async () => (during = await Requests.MapAsync(gateway, Adapters)).Values.All(r => r != victimId), "the dead replica's adapters served elsewhere");
        Assert.All(itsAdapters, a => Assert.NotEqual(victimId, during[a]));

        await cluster.RestartAsync(victim);
        await Poll.UntilAsync(async () => (await Requests.MapAsync(gateway, Adapters)).All(kv => before[kv.Key] == kv.Value), "every adapter back on its first replica");

        await stop.CancelAsync();
        var outcomes = await load;
        Assert.NotEmpty(outcomes);
        var failedBeforeStart = outcomes.Where(o => !o.Started).ToArray();
        Assert.True(failedBeforeStart.Length == 0, string.Join("\n", failedBeforeStart.Select(o => $"{o.Adapter}: {o.Status} {o.Failure}")));
        // A stream cut by the kill ends the OpenAI way (an error chunk, then [DONE]), never cut off or hung.
        Assert.All(outcomes.Where(o => !o.Succeeded), o => Assert.True(o.ErrorChunk && o.Done && o.Failure is null, $"{o.Adapter} via {o.Replica}: done={o.Done} error={o.ErrorChunk} {o.Failure}"));
        Assert.Contains(outcomes, o => o.Succeeded && o.Replica == victimId);
    }
}
