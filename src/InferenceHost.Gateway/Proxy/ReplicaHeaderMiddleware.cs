using System.Diagnostics;
using Yarp.ReverseProxy.Model;

namespace InferenceHost.Gateway.Proxy;

/// <summary>
/// Outermost step: every response carries <c>x-inferencehost-replica</c> — the replica that served it, the
/// replicas a fan-out asked (comma-separated), or <c>gateway</c> for what the gateway answered itself — and is
/// counted per replica and status.
/// </summary>
public sealed class ReplicaHeaderMiddleware(RequestDelegate next, Telemetry.GatewayTelemetry telemetry)
{
    public const string HeaderName = "x-inferencehost-replica";
    public static readonly object ArrivalItem = new();
    public static readonly object ReplicasItem = new();

    public async Task InvokeAsync(HttpContext context)
    {
        context.Items[ArrivalItem] = Stopwatch.GetTimestamp();
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[HeaderName] = Replica(context);
            return Task.CompletedTask;
        });
        await next(context);
        telemetry.Answered(Replica(context), context.Response.StatusCode);
    }

    private static string Replica(HttpContext context) =>
        context.Features.Get<IReverseProxyFeature>()?.ProxiedDestination?.DestinationId
        ?? context.Items[ReplicasItem] as string
        ?? "gateway";
}
