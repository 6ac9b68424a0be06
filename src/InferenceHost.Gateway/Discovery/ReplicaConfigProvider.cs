using System.Net;
using System.Net.Sockets;
using InferenceHost.Gateway.Hosting;
using InferenceHost.Gateway.Routing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;

namespace InferenceHost.Gateway.Discovery;

/// <summary>
/// YARP's configuration, built in code: one catch-all route to the <c>replicas</c> cluster, whose destinations are
/// <c>Gateway:Replicas</c> plus every address <c>Gateway:Discovery:DnsName</c> resolves to (a Kubernetes headless
/// Service lists one A record per ready pod), resolved again every <c>RefreshSeconds</c>. A destination's id is
/// its host:port, so the hash ring and <c>x-inferencehost-replica</c> name replicas the same way everywhere.
/// </summary>
public sealed class ReplicaConfigProvider : IProxyConfigProvider, IHostedService, IDisposable
{
    public const string ConnectFailurePolicyName = ConnectFailurePolicy.PolicyName;

    private readonly GatewayOptions options;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> resolve;
    private readonly ILogger<ReplicaConfigProvider> log;
    private readonly CancellationTokenSource stopping = new();
    private volatile Snapshot current;

    public ReplicaConfigProvider(IOptions<GatewayOptions> options, ILogger<ReplicaConfigProvider> log)
        : this(options.Value, Dns.GetHostAddressesAsync, log)
    {
    }

    internal ReplicaConfigProvider(GatewayOptions options, Func<string, CancellationToken, Task<IPAddress[]>> resolve, ILogger<ReplicaConfigProvider> log)
    {
        this.options = options;
        this.resolve = resolve;
        this.log = log;
        current = new Snapshot(Build(StaticDestinations()));
    }

    public IProxyConfig GetConfig() => current;

    /// <summary>Resolves the DNS name once and publishes the new destinations if they changed.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        var destinations = new SortedDictionary<string, string>(StaticDestinations(), StringComparer.Ordinal);
        try
        {
            foreach (var address in (await resolve(options.Discovery.DnsName, ct)).Distinct().Order(Comparer<IPAddress>.Create((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()))))
            {
                var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
                destinations.TryAdd($"{host}:{options.Discovery.Port}", $"{options.Discovery.Scheme}://{host}:{options.Discovery.Port}");
            }
        }
        catch (SocketException e)
        {
            log.LogWarning("Resolving {Name} failed: {Message}; keeping the replicas known so far", options.Discovery.DnsName, e.Message);
            return;
        }

        var old = current;
        var known = old.Clusters[0].Destinations!;
        if (known.Count == destinations.Count && destinations.All(d => known.ContainsKey(d.Key)))
        {
            return;
        }

        log.LogInformation("Replicas now: {Replicas}", string.Join(", ", destinations.Keys));
        current = new Snapshot(Build(destinations));
        old.Changed();
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Discovery.DnsName.Length > 0)
        {
            _ = LoopAsync(stopping.Token);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        stopping.Cancel();
        return Task.CompletedTask;
    }

    public void Dispose() => stopping.Dispose();

    private async Task LoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Discovery.RefreshSeconds));
        try
        {
            do
            {
                await RefreshAsync(ct);
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private SortedDictionary<string, string> StaticDestinations()
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var url in options.Replicas)
        {
            var uri = new Uri(url);
            result.TryAdd($"{uri.Host}:{uri.Port}", uri.GetLeftPart(UriPartial.Authority));
        }

        return result;
    }

    private ClusterConfig Build(IDictionary<string, string> destinations)
    {
        var health = options.Health;
        return new ClusterConfig
        {
            ClusterId = ReplicaMonitor.ClusterId,
            LoadBalancingPolicy = AdapterAffinityPolicy.PolicyName,
            Destinations = destinations.ToDictionary(d => d.Key, d => new DestinationConfig { Address = d.Value }, StringComparer.Ordinal),
            HealthCheck = new HealthCheckConfig
            {
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = TimeSpan.FromSeconds(health.IntervalSeconds),
                    Timeout = TimeSpan.FromSeconds(health.TimeoutSeconds),
                    Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                    Path = "/health/ready",
                },
                Passive = new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = ConnectFailurePolicyName,
                    ReactivationPeriod = TimeSpan.FromSeconds(health.ReactivationSeconds),
                },
            },
            Metadata = new Dictionary<string, string> { [ConsecutiveFailuresHealthPolicyOptions.ThresholdMetadataName] = health.ConsecutiveFailures.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            HttpRequest = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(options.ActivityTimeoutSeconds) },
        };
    }

    private sealed class Snapshot(ClusterConfig cluster) : IProxyConfig
    {
        private readonly CancellationTokenSource changed = new();

        public IReadOnlyList<RouteConfig> Routes { get; } =
        [
            new RouteConfig { RouteId = "openai", ClusterId = ReplicaMonitor.ClusterId, Match = new RouteMatch { Path = "/{**catch-all}" } },
        ];

        public IReadOnlyList<ClusterConfig> Clusters { get; } = [cluster];

        public IChangeToken ChangeToken => new CancellationChangeToken(changed.Token);

        public void Changed() => changed.Cancel();
    }
}
