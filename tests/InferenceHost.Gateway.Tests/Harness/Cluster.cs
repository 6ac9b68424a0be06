using System.Net;
using System.Net.Http.Json;
using InferenceHost.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace InferenceHost.Gateway.Tests.Harness;

/// <summary>Three (or N) replicas on loopback sharing one adapter directory, and gateways in front of them.</summary>
public sealed class Cluster : IAsyncDisposable
{
    private readonly string adaptersDir;
    private readonly IReadOnlyDictionary<string, string?> replicaSettings;
    private readonly List<WebApplication> gateways = [];

    private Cluster(string adaptersDir, IReadOnlyDictionary<string, string?> replicaSettings, int[] ports)
    {
        this.adaptersDir = adaptersDir;
        this.replicaSettings = replicaSettings;
        Replicas = ports.Select(p => new Replica(p, adaptersDir, replicaSettings)).ToList();
    }

    public List<Replica> Replicas { get; }

    /// <summary>The gateways started so far, in order (their services, for what the gateway itself counted).</summary>
    public IReadOnlyList<WebApplication> Gateways => gateways;

    public static async Task<Cluster> StartAsync(string adaptersDir, int replicas = 3, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var cluster = new Cluster(adaptersDir, settings ?? new Dictionary<string, string?>(), Enumerable.Range(0, replicas).Select(_ => Replica.FreePort()).ToArray());
        await Task.WhenAll(cluster.Replicas.Select(r => r.StartAsync()));
        return cluster;
    }

    /// <summary>Starts a gateway over the replicas (fast health checks and polls) and waits until it is ready.</summary>
    public async Task<HttpClient> StartGatewayAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Gateway:Health:IntervalSeconds"] = "0.5",
            ["Gateway:Health:TimeoutSeconds"] = "2",
            ["Gateway:Health:ReactivationSeconds"] = "1",
            ["Gateway:LoadPollMilliseconds"] = "200",
            ["Gateway:CatalogueRefreshSeconds"] = "1",
            ["Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = Environment.GetEnvironmentVariable("GATEWAY_TEST_LOG") ?? "Warning",
            ["Logging:LogLevel:Yarp"] = Environment.GetEnvironmentVariable("GATEWAY_TEST_LOG") ?? "Critical",
        };
        for (var i = 0; i < Replicas.Count; i++)
        {
            all[$"Gateway:Replicas:{i}"] = Replicas[i].Url;
        }

        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            all[k] = v;
        }

        var app = GatewayApp.Build([], b => b.Configuration.AddInMemoryCollection(all));
        await app.StartAsync();
        gateways.Add(app);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
        await Poll.UntilAsync(async () => (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK, "gateway ready");
        return client;
    }

    /// <summary>Stops replica <paramref name="index"/> abruptly (connections aborted).</summary>
    public async Task KillAsync(int index) => await Replicas[index].DisposeAsync();

    /// <summary>Starts replica <paramref name="index"/> again on its old port.</summary>
    public async Task RestartAsync(int index)
    {
        var fresh = new Replica(Replicas[index].Port, adaptersDir, replicaSettings);
        Replicas[index] = fresh;
        await fresh.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var g in gateways)
        {
            await g.StopAsync();
            await g.DisposeAsync();
        }

        foreach (var r in Replicas)
        {
            await r.DisposeAsync();
        }
    }
}

/// <summary>Requests through a gateway, and what came back.</summary>
public static class Requests
{
    public const string Header = "x-inferencehost-replica";

    /// <summary>A short non-streaming completion with <paramref name="model"/>; returns the status and the serving replica.</summary>
    public static async Task<(HttpStatusCode Status, string Replica)> CompleteAsync(HttpClient gateway, string model, int maxTokens = 2)
    {
        using var response = await gateway.PostAsJsonAsync("/v1/completions", new { model, prompt = "Hello there", max_tokens = maxTokens, temperature = 0, ignore_eos = true });
        await response.Content.ReadAsStringAsync();
        return (response.StatusCode, ReplicaOf(response));
    }

    public static string ReplicaOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues(Header, out var v) ? string.Join(",", v) : "(none)";

    /// <summary>The replica each adapter's requests go to now (one request each).</summary>
    public static async Task<Dictionary<string, string>> MapAsync(HttpClient gateway, IEnumerable<string> adapters)
    {
        var map = new Dictionary<string, string>();
        foreach (var a in adapters)
        {
            var (status, replica) = await CompleteAsync(gateway, a);
            Assert.Equal(HttpStatusCode.OK, status);
            map[a] = replica;
        }

        return map;
    }
}
