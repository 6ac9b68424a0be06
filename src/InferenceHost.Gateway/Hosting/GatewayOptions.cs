using System.ComponentModel.DataAnnotations;
using InferenceHost.Gateway.Routing;

namespace InferenceHost.Gateway.Hosting;

/// <summary><c>Gateway</c>: where the replicas are and how requests are spread over them.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Replica base URLs (<c>http://10.0.0.5:8000</c>); the DNS name below adds more.</summary>
    public List<string> Replicas { get; set; } = [];

    public DiscoveryOptions Discovery { get; set; } = new();

    public RoutingOptions Routing { get; set; } = new();

    public HealthOptions Health { get; set; } = new();

    /// <summary>Retries on the next replica for a request that failed or was refused before its first byte.</summary>
    [Range(0, 5)]
    public int MaxRetries { get; set; } = 1;

    /// <summary>How often each replica's <c>/v1/engine</c> is read for its queue depth.</summary>
    [Range(50, 60_000)]
    public int LoadPollMilliseconds { get; set; } = 500;

    /// <summary>How often the adapter catalogue (<c>/v1/models</c>) is read again.</summary>
    [Range(1, 3600)]
    public int CatalogueRefreshSeconds { get; set; } = 10;

    /// <summary>Largest request body the gateway reads to find <c>model</c> and <c>adapters</c> (413 beyond).</summary>
    [Range(1, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 1 << 20;

    /// <summary>A replica silent this long in the middle of a request is given up (the stream gets an error chunk).</summary>
    [Range(1, 86400)]
    public int ActivityTimeoutSeconds { get; set; } = 120;

    /// <summary>Bearer key the gateway's own polls send; default the first of Auth:ApiKeys, else Auth:AdminKeys.</summary>
    public string? ReplicaApiKey { get; set; }
}

/// <summary><c>Gateway:Discovery</c>: replicas behind a DNS name (a Kubernetes headless Service).</summary>
public sealed class DiscoveryOptions
{
    /// <summary>Empty = no DNS discovery; e.g. <c>inferencehost-replicas.default.svc.cluster.local</c>.</summary>
    public string DnsName { get; set; } = string.Empty;

    [Range(1, 65535)]
    public int Port { get; set; } = 8000;

    [RegularExpression("^https?$")]
    public string Scheme { get; set; } = "http";

    [Range(1, 3600)]
    public int RefreshSeconds { get; set; } = 10;
}

/// <summary><c>Gateway:Routing</c>: the affinity rule (see <see cref="AffinityRouter"/>).</summary>
public sealed class RoutingOptions
{
    /// <summary><c>affinity</c> (adapter affinity with spill-over) or <c>round-robin</c> (the baseline for comparisons).</summary>
    public string Mode { get; set; } = "affinity";

    [Range(1, 10_000)]
    public int VirtualNodes { get; set; } = 160;

    /// <summary>
    /// No replica owns more than ⌈Balance · adapters / replicas⌉ catalogue adapters. 1.0 shares them out evenly
    /// (a few more adapters move when a replica leaves or joins); larger values move fewer but allow more imbalance.
    /// </summary>
    [Range(1.0, 100.0)]
    public double Balance { get; set; } = 1.0;

    /// <summary>Requests at a replica (in flight through this gateway, or running + queued by its own count) at which its keys spill over.</summary>
    [Range(1, 1 << 20)]
    public int MaxLoadPerReplica { get; set; } = 16;

    /// <summary>After a replica answers 429 its keys spill over for this long.</summary>
    [Range(0, 600_000)]
    public int RefusalCooldownMilliseconds { get; set; } = 2000;

    public bool SpillOver { get; set; } = true;

    public RoutingMode ParsedMode => Mode == "round-robin" ? RoutingMode.RoundRobin : RoutingMode.Affinity;

    public RouterSettings Settings() => new(VirtualNodes, Balance, MaxLoadPerReplica, SpillOver, ParsedMode);
}

/// <summary><c>Gateway:Health</c>: YARP's active probe of <c>/health/ready</c> and passive checks.</summary>
public sealed class HealthOptions
{
    [Range(0.1, 3600)]
    public double IntervalSeconds { get; set; } = 2;

    [Range(0.1, 3600)]
    public double TimeoutSeconds { get; set; } = 1;

    /// <summary>Failed probes in a row that take a replica out.</summary>
    [Range(1, 100)]
    public int ConsecutiveFailures { get; set; } = 2;

    /// <summary>A replica that refused a connection is skipped this long, then probed again.</summary>
    [Range(0.1, 3600)]
    public double ReactivationSeconds { get; set; } = 5;
}

/// <summary><c>Auth</c>: the same keys and meaning as the server's (any key for generation, admin keys for adapter management).</summary>
public sealed class GatewayAuthOptions
{
    public const string Section = "Auth";

    public List<string> ApiKeys { get; set; } = [];

    public List<string> AdminKeys { get; set; } = [];
}
