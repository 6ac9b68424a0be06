using InferenceHost.Gateway.Hosting;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace InferenceHost.Gateway.Routing;

/// <summary>
/// YARP load-balancing policy <c>AdapterAffinity</c>: reads the request's adapter combination (found in its body
/// by <see cref="Proxy.RequestModelMiddleware"/>) and asks <see cref="AffinityRouter"/> which of YARP's available
/// destinations takes it. The router is rebuilt when the healthy replicas or the catalogue change.
/// </summary>
public sealed class AdapterAffinityPolicy(ReplicaMonitor monitor, IOptionsMonitor<GatewayOptions> options, Telemetry.GatewayTelemetry telemetry)
    : ILoadBalancingPolicy
{
    public const string PolicyName = "AdapterAffinity";

    private readonly object picking = new();
    private readonly RoundRobinTurn turn = new();
    private (string Members, Catalogue Catalogue, RoutingOptions Options, AffinityRouter Router)? cached;

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        var byId = availableDestinations.ToDictionary(d => d.DestinationId, StringComparer.Ordinal);
        var catalogue = monitor.Current;
        var key = context.Features.Get<RequestedModel>()?.Key(catalogue.BaseModels);
        var router = Router(byId.Keys, catalogue);
        RouteDecision? decision;
        lock (picking)
        {
            // Picking and counting in one step: a burst of requests sees each other's picks, not a stale load.
            decision = router.Pick(key, id => monitor.Load(byId[id]));
            if (decision is null)
            {
                return null;
            }

            monitor.Begin(decision.Replica);
        }

        context.Items[RouteDecisionItem] = decision;
        telemetry.Routed(decision);
        return byId[decision.Replica];
    }

    public static readonly object RouteDecisionItem = new();

    private AffinityRouter Router(IEnumerable<string> ids, Catalogue catalogue)
    {
        var members = string.Join(',', ids.Order(StringComparer.Ordinal));
        var routing = options.CurrentValue.Routing;
        var current = cached;
        if (current is { } c && c.Members == members && ReferenceEquals(c.Catalogue, catalogue) && ReferenceEquals(c.Options, routing))
        {
            return c.Router;
        }

        var router = new AffinityRouter(members.Split(',', StringSplitOptions.RemoveEmptyEntries), catalogue.Adapters, routing.Settings(), turn);
        cached = (members, catalogue, routing, router);
        return router;
    }
}
