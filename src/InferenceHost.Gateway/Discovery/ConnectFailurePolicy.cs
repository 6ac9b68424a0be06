using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace InferenceHost.Gateway.Discovery;

/// <summary>
/// Passive health policy <c>ConnectFailure</c>: a replica that could not be reached at all (connection refused or
/// reset before an answer) is taken out at once for the cluster's reactivation period; the active probe of
/// <c>/health/ready</c> brings it back when it answers again. YARP's own TransportFailureRate policy waits for a
/// failure rate over a window, too slow for a replica that has just died.
/// </summary>
public sealed class ConnectFailurePolicy(IDestinationHealthUpdater health) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "ConnectFailure";

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        var error = context.GetForwarderErrorFeature()?.Error;
        if (error is ForwarderError.Request && !context.RequestAborted.IsCancellationRequested)
        {
            var period = cluster.Model.Config.HealthCheck?.Passive?.ReactivationPeriod ?? TimeSpan.FromSeconds(5);
            health.SetPassive(cluster, destination, DestinationHealth.Unhealthy, period);
        }
    }
}
