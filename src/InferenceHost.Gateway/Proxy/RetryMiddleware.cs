using InferenceHost.Gateway.Hosting;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace InferenceHost.Gateway.Proxy;

/// <summary>Per request: the destinations YARP offered, those tried, and whether the last one refused.</summary>
public sealed class RetryState(IReadOnlyList<DestinationState> offered, int retries)
{
    private readonly HashSet<string> tried = new(StringComparer.Ordinal);

    public int RetriesLeft { get; private set; } = retries;

    /// <summary>Set by <see cref="ReplicaResponseTransform"/> when it held back a 429/503 so that the next replica can answer.</summary>
    public bool Refused { get; set; }

    public IReadOnlyList<DestinationState> Remaining => offered.Where(d => !tried.Contains(d.DestinationId)).ToArray();

    public bool CanRetryAfter(DestinationState current) =>
        RetriesLeft > 0 && offered.Any(d => d.DestinationId != current.DestinationId && !tried.Contains(d.DestinationId));

    public void Tried(DestinationState? d)
    {
        if (d is not null)
        {
            tried.Add(d.DestinationId);
        }
    }

    public void Spend() => RetriesLeft--;
}

/// <summary>
/// Proxy-pipeline step around load balancing and forwarding: a Polly retry sends a request again, to the next
/// replica the policy picks among those not yet tried, when its replica failed before the first byte of the
/// response (connection refused or reset, timeout, a body that broke before any byte) or refused it (429/503
/// held back by <see cref="ReplicaResponseTransform"/>). Only requests whose body can be sent again are retried.
/// Whatever still failed is answered with an OpenAI-shaped error.
/// </summary>
public sealed class RetryMiddleware(RequestDelegate next, IOptions<GatewayOptions> options, Routing.ReplicaMonitor monitor, Telemetry.GatewayTelemetry telemetry)
{
    private readonly ResiliencePipeline<string?> pipeline = options.Value.MaxRetries == 0
        ? ResiliencePipeline<string?>.Empty
        : new ResiliencePipelineBuilder<string?>().AddRetry(new RetryStrategyOptions<string?>
        {
            MaxRetryAttempts = options.Value.MaxRetries,
            Delay = TimeSpan.Zero,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is not null),
            OnRetry = args =>
            {
                telemetry.Retried(args.Outcome.Result!);
                return ValueTask.CompletedTask;
            },
        }).Build();

    public async Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var state = new RetryState(proxy.AvailableDestinations, Resendable(context.Request) ? options.Value.MaxRetries : 0);
        context.Features.Set(state);
        var first = true;
        await pipeline.ExecuteAsync(async _ =>
        {
            if (!first)
            {
                Reset(context, proxy, state);
            }

            first = false;
            try
            {
                await next(context);
            }
            finally
            {
                if (context.Items.Remove(Routing.AdapterAffinityPolicy.RouteDecisionItem, out var d) && d is Routing.RouteDecision picked)
                {
                    monitor.End(picked.Replica);
                }
            }

            state.Tried(proxy.ProxiedDestination);
            return Retryable(context, state);
        }, context.RequestAborted);

        if (!context.Response.HasStarted && context.GetForwarderErrorFeature() is { } error)
        {
            await WriteErrorAsync(context, error, proxy.ProxiedDestination?.DestinationId);
        }
    }

    private static bool Resendable(HttpRequest r) => r.Body is MemoryStream || HttpMethods.IsGet(r.Method) || HttpMethods.IsHead(r.Method);

    /// <summary>Why this attempt should be sent again (null: it stands).</summary>
    private static string? Retryable(HttpContext context, RetryState state)
    {
        string? reason = null;
        if (state.Refused)
        {
            reason = "refused";
        }
        else if (!context.Response.HasStarted && context.GetForwarderErrorFeature() is { } e && !context.RequestAborted.IsCancellationRequested
                 && e.Error is ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination)
        {
            reason = e.Error.ToString();
        }

        return reason is not null && state.RetriesLeft > 0 && state.Remaining.Count > 0 ? reason : null;
    }

    private static void Reset(HttpContext context, IReverseProxyFeature proxy, RetryState state)
    {
        state.Spend();
        state.Refused = false;
        context.Response.Clear();
        context.Features.Set<IForwarderErrorFeature>(null);
        if (context.Request.Body is MemoryStream body)
        {
            body.Position = 0;
        }

        proxy.AvailableDestinations = state.Remaining;
    }

    private static Task WriteErrorAsync(HttpContext context, IForwarderErrorFeature error, string? replica) => error.Error switch
    {
        ForwarderError.NoAvailableDestinations => GatewayErrors.WriteAsync(context, 503, "no healthy replica is available; retry shortly", "no_replica"),
        ForwarderError.RequestTimedOut => GatewayErrors.WriteAsync(context, 504, $"replica {replica} did not answer in time", "replica_timeout"),
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled when context.RequestAborted.IsCancellationRequested => Task.CompletedTask,
        ForwarderError.RequestBodyClient => GatewayErrors.WriteAsync(context, 400, "the request body could not be read", "invalid_request_body"),
        _ => GatewayErrors.WriteAsync(context, 502, $"replica {replica} failed: {error.Error} ({error.Exception?.Message})", "replica_failed"),
    };
}
