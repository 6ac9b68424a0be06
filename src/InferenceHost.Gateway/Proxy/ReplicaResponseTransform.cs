using System.Diagnostics;
using InferenceHost.Gateway.Routing;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace InferenceHost.Gateway.Proxy;

/// <summary>
/// YARP response transform: notes a replica's 429 for the router, holds back a 429/503 body when another replica
/// can still be tried (so <see cref="RetryMiddleware"/> can retry it), and records the latency the gateway added.
/// </summary>
public sealed class ReplicaResponseTransform(ReplicaMonitor monitor, Telemetry.GatewayTelemetry telemetry) : ResponseTransform
{
    public static readonly HttpRequestOptionsKey<TimeSpan> ReplicaTimeToHeaders = new("inferencehost.replica_time_to_headers");

    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        var http = context.HttpContext;
        if (context.ProxyResponse is not { } response || http.Features.Get<IReverseProxyFeature>()?.ProxiedDestination is not { } destination)
        {
            return ValueTask.CompletedTask;
        }

        var status = (int)response.StatusCode;
        if (status == StatusCodes.Status429TooManyRequests)
        {
            monitor.RecordRefusal(destination.DestinationId);
        }

        if (status is 429 or 503 && http.Features.Get<RetryState>() is { } retry && retry.CanRetryAfter(destination))
        {
            context.SuppressResponseBody = true;
            retry.Refused = true;
        }

        if (http.Items[ReplicaHeaderMiddleware.ArrivalItem] is long arrival && response.RequestMessage?.Options.TryGetValue(ReplicaTimeToHeaders, out var replicaTime) == true)
        {
            telemetry.AddedLatency(Stopwatch.GetElapsedTime(arrival) - replicaTime);
        }

        return ValueTask.CompletedTask;
    }
}
