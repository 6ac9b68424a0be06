using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using InferenceHost.Gateway.Tests.Harness;

namespace InferenceHost.Gateway.Tests;

/// <summary>Three replicas and a gateway on loopback, twelve adapters under uniform traffic.</summary>
public sealed class AffinityTests
{
    private static readonly string[] Adapters = Enumerable.Range(0, 12).Select(i => $"adapter-{i}").ToArray();

    [Fact]
    public async Task Each_adapter_is_served_by_one_replica_and_the_adapters_are_spread_evenly()
    {
        await using var cluster = await Cluster.StartAsync(SyntheticAdapters.TwelveDir);
        var gateway = await cluster.StartGatewayAsync();

        // Uniform traffic: every adapter four times, six requests at a time.
        var work = Enumerable.Range(0, 4).SelectMany(_ => Adapters).ToArray();
        var served = new List<(string Adapter, HttpStatusCode Status, string Replica)>();
        foreach (var wave in work.Chunk(6))
        {
            var results = await Task.WhenAll(wave.Select(async a => (a, await Requests.CompleteAsync(gateway, a))));
            served.AddRange(results.Select(r => (r.a, r.Item2.Status, r.Item2.Replica)));
        }

        Assert.All(served, s => Assert.Equal(HttpStatusCode.OK, s.Status));
        var replicaOf = served.GroupBy(s => s.Adapter).ToDictionary(g => g.Key, g => g.Select(s => s.Replica).Distinct().ToArray());
        Assert.All(replicaOf, kv => Assert.True(kv.Value.Length == 1, $"{kv.Key} went to {string.Join(", ", kv.Value)}"));

        var perReplica = cluster.Replicas.ToDictionary(r => r.Id, r => replicaOf.Count(kv => kv.Value[0] == r.Id));
        var mean = Adapters.Length / 3.0;
        Assert.All(perReplica, kv => Assert.True(kv.Value <= 1.5 * mean && kv.Value >= mean / 1.5, $"{kv.Key} owns {kv.Value} adapters (mean {mean})"));
    }

    [Fact]
    public async Task Models_come_from_the_replicas_and_admin_calls_reach_every_replica()
    {
        await using var cluster = await Cluster.StartAsync(SyntheticAdapters.TwelveDir);
        var gateway = await cluster.StartGatewayAsync();

        using var models = await gateway.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        var ids = JsonDocument.Parse(await models.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToHashSet();
        Assert.Superset(Adapters.Append("tiny-llama").ToHashSet(), ids!);
        Assert.Equal(3, Requests.ReplicaOf(models).Split(',').Length);

        var extra = Path.Combine(SyntheticAdapters.TwelveDir, "adapter-3");
        using var load = await gateway.PostAsJsonAsync("/v1/load_lora_adapter", new { lora_name = "copy-of-3", lora_path = extra });
        var loaded = JsonDocument.Parse(await load.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(HttpStatusCode.Created, load.StatusCode);
        Assert.Equal(cluster.Replicas.Select(r => r.Id).Order(), loaded.Select(r => r.GetProperty("replica").GetString()).Order());
        Assert.All(loaded, r => Assert.Equal(201, r.GetProperty("status").GetInt32()));
        Assert.Equal(HttpStatusCode.OK, (await Requests.CompleteAsync(gateway, "copy-of-3")).Status);

        using var unload = await gateway.DeleteAsync("/v1/adapters/copy-of-3");
        Assert.Equal(HttpStatusCode.OK, unload.StatusCode);
        using var again = await gateway.DeleteAsync("/v1/adapters/copy-of-3");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode); // every replica's own 404, each listed
        Assert.Equal(3, JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Keys_are_checked_at_the_gateway_and_passed_on()
    {
        var keys = new Dictionary<string, string?> { ["Auth:ApiKeys:0"] = "user-key", ["Auth:AdminKeys:0"] = "admin-key" };
        await using var cluster = await Cluster.StartAsync(SyntheticAdapters.TwelveDir, replicas: 2, settings: keys);
        var gateway = await cluster.StartGatewayAsync(keys);

        using var none = await gateway.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("gateway", Requests.ReplicaOf(none));
        Assert.Equal("invalid_api_key", JsonDocument.Parse(await none.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());

        gateway.DefaultRequestHeaders.Authorization = new("Bearer", "user-key");
        Assert.Equal(HttpStatusCode.OK, (await Requests.CompleteAsync(gateway, "adapter-1")).Status); // accepted by the gateway and by the replica
        using var admin = await gateway.DeleteAsync("/v1/adapters/adapter-1");
        Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);

        gateway.DefaultRequestHeaders.Authorization = new("Bearer", "admin-key");
        using var engine = await gateway.GetAsync("/v1/adapters");
        Assert.Equal(HttpStatusCode.OK, engine.StatusCode);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_with_413_and_bad_json_gets_the_replicas_400()
    {
        await using var cluster = await Cluster.StartAsync(SyntheticAdapters.TwelveDir, replicas: 1);
        var gateway = await cluster.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:MaxRequestBodyBytes"] = "200" });

        using var big = await gateway.PostAsJsonAsync("/v1/completions", new { model = "adapter-0", prompt = new string('x', 500) });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.Contains("Gateway:MaxRequestBodyBytes", await big.Content.ReadAsStringAsync());

        using var bad = await gateway.PostAsync("/v1/completions", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(cluster.Replicas[0].Id, Requests.ReplicaOf(bad));
    }
}
