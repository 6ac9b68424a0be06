using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using InferenceHost.Gateway.Hosting;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace InferenceHost.Gateway.Routing;

/// <summary>
/// What the gateway knows of its replicas beyond YARP's health: each one's running + queued requests (polled from
/// <c>GET /v1/engine</c>), when it last answered 429, and the adapter catalogue and base-model names (from
/// <c>GET /v1/models</c>; the replicas share one adapter directory). Polls in the background; thread-safe.
/// </summary>
public sealed class ReplicaMonitor : BackgroundService
{
    private readonly IServiceProvider services;
    private readonly IHttpClientFactory clients;
    private readonly IOptions<GatewayOptions> options;
    private readonly IOptions<GatewayAuthOptions> auth;
    private readonly ILogger<ReplicaMonitor> log;

    public ReplicaMonitor(IServiceProvider services, IHttpClientFactory clients, IOptions<GatewayOptions> options, IOptions<GatewayAuthOptions> auth,
        Telemetry.GatewayTelemetry telemetry, ILogger<ReplicaMonitor> log)
    {
        this.services = services;
        this.clients = clients;
        this.options = options;
        this.auth = auth;
        this.log = log;
        telemetry.ObserveReplicas(() => slotCounts.Select(kv => (kv.Key, kv.Value.Hits, kv.Value.Misses)));
    }

    public const string ClusterId = "replicas";
    public const string HttpClientName = "replicas";

    private readonly ConcurrentDictionary<string, int> polledLoad = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (long Hits, long Misses)> slotCounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> refusedAt = new(StringComparer.Ordinal);
    private volatile Catalogue catalogue = Catalogue.Empty;

    /// <summary>Adapter names and base-model names from the last successful <c>/v1/models</c>; null before the first.</summary>
    public Catalogue Current => catalogue;

    // Resolved on first use: YARP's config manager itself needs the load-balancing policy, which needs this monitor.
    public ClusterState? Cluster => services.GetRequiredService<IProxyStateLookup>().TryGetCluster(ClusterId, out var c) ? c : null;

    private readonly ConcurrentDictionary<string, int> inFlight = new(StringComparer.Ordinal);

    /// <summary>Counts a request routed to <paramref name="replica"/> from the moment it is picked (YARP's own count starts later, when forwarding begins).</summary>
    public void Begin(string replica) => inFlight.AddOrUpdate(replica, 1, (_, n) => n + 1);

    public void End(string replica) => inFlight.AddOrUpdate(replica, 0, (_, n) => Math.Max(0, n - 1));

    public ReplicaLoad Load(DestinationState d)
    {
        var polled = Math.Max(polledLoad.GetValueOrDefault(d.DestinationId), inFlight.GetValueOrDefault(d.DestinationId));
        var cooldown = options.Value.Routing.RefusalCooldownMilliseconds;
        var refused = refusedAt.TryGetValue(d.DestinationId, out var at) && Environment.TickCount64 - at < cooldown;
        return new ReplicaLoad(Math.Max(d.ConcurrentRequestCount, polled), refused);
    }

    private readonly ConcurrentDictionary<string, long> refusals = new(StringComparer.Ordinal);

    public void RecordRefusal(string replica)
    {
        refusedAt[replica] = Environment.TickCount64;
        refusals.AddOrUpdate(replica, 1, (_, n) => n + 1);
    }

    /// <summary>429s this gateway has had from <paramref name="replica"/> since it started.</summary>
    public long Refusals(string replica) => refusals.GetValueOrDefault(replica);

    /// <summary>Reads every replica once now (also what the background loop does each interval).</summary>
    public async Task PollAsync(bool catalogueToo, CancellationToken ct)
    {
        if (Cluster is not { } cluster)
        {
            return;
        }

        var destinations = cluster.Destinations.Values.ToArray();
        await Task.WhenAll(destinations.Select(d => PollLoadAsync(d, ct)));
        if (catalogueToo)
        {
            foreach (var d in cluster.DestinationsState.AvailableDestinations)
            {
                if (await FetchCatalogueAsync(d, ct) is { } c)
                {
                    catalogue = c;
                    break;
                }
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastCatalogue = long.MinValue;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.LoadPollMilliseconds));
        do
        {
            var refresh = Environment.TickCount64 - lastCatalogue >= options.Value.CatalogueRefreshSeconds * 1000L;
            try
            {
                await PollAsync(refresh || !catalogue.Loaded, stoppingToken);
                if (refresh && catalogue.Loaded)
                {
                    lastCatalogue = Environment.TickCount64;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "Polling the replicas failed");
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false; // stopping
        }
    }

    private async Task PollLoadAsync(DestinationState d, CancellationToken ct)
    {
        try
        {
            using var doc = await GetJsonAsync(d, "v1/engine", ct);
            var root = doc.RootElement;
            polledLoad[d.DestinationId] = root.GetProperty("queue_depth").GetInt32() + root.GetProperty("running").GetInt32();
            if (root.TryGetProperty("slot_hits_total", out var hits) && root.TryGetProperty("slot_misses_total", out var misses))
            {
                slotCounts[d.DestinationId] = (hits.GetInt64(), misses.GetInt64());
            }
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            polledLoad.TryRemove(d.DestinationId, out _); // unreachable: YARP's health checks decide; its load is unknown
        }
    }

    private async Task<Catalogue?> FetchCatalogueAsync(DestinationState d, CancellationToken ct)
    {
        try
        {
            using var doc = await GetJsonAsync(d, "v1/models", ct);
            var models = doc.RootElement.GetProperty("data").EnumerateArray().ToArray();
            string? Parent(JsonElement m) => m.TryGetProperty("parent", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            bool Broken(JsonElement m) => m.TryGetProperty("error", out var e) && e.ValueKind != JsonValueKind.Null;
            var adapters = models.Where(m => Parent(m) is not null && !Broken(m)).Select(m => m.GetProperty("id").GetString()!).ToArray();
            var bases = models.Where(m => Parent(m) is null).Select(m => m.GetProperty("id").GetString()!).ToArray();
            return new Catalogue(adapters, bases, Loaded: true);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            log.LogDebug(e, "No catalogue from {Replica}", d.DestinationId);
            return null;
        }
    }

    private async Task<JsonDocument> GetJsonAsync(DestinationState d, string path, CancellationToken ct)
    {
        var address = d.Model.Config.Address;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(address.EndsWith('/') ? address : address + "/"), path));
        if (PollKey() is { } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var response = await clients.CreateClient(HttpClientName).SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        return await JsonDocument.ParseAsync(body, cancellationToken: ct);
    }

    private string? PollKey() =>
        options.Value.ReplicaApiKey is { Length: > 0 } k ? k : auth.Value.ApiKeys.FirstOrDefault() ?? auth.Value.AdminKeys.FirstOrDefault();
}

/// <summary>The adapters the replicas serve and the names of their base model(s).</summary>
public sealed record Catalogue(IReadOnlyList<string> Adapters, IReadOnlyList<string> BaseModels, bool Loaded)
{
    public static readonly Catalogue Empty = new([], [], false);
}
