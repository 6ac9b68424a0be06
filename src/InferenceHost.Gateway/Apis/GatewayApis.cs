using System.Text.Json.Nodes;
using InferenceHost.Gateway.Hosting;
using InferenceHost.Gateway.Routing;
using Microsoft.Extensions.Options;

namespace InferenceHost.Gateway.Apis;

/// <summary>
/// What the gateway answers itself instead of proxying: <c>GET /v1/models</c> from the replicas, adapter loads and
/// unloads sent to every replica (each one's result in the answer), and the gateway's own health routes.
/// </summary>
public static class GatewayApis
{
    public static IEndpointRouteBuilder MapGatewayApis(this IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("/health").WithTags("Health");
        health.MapGet("/live", () => Results.Ok(new { status = "live" })).WithName("GatewayLive");
        health.MapGet("/ready", Ready).WithName("GatewayReady");

        var v1 = app.MapGroup("/v1");
        v1.MapGet("/models", (Delegate)Models).WithTags("Models").WithName("GatewayListModels");
        var admin = v1.MapGroup(string.Empty).WithTags("Adapters");
        admin.MapPost("/adapters", (HttpContext c, IOptions<GatewayOptions> o) => Broadcast(c, o, HttpMethod.Post, "/v1/adapters")).WithName("GatewayLoadAdapter");
        admin.MapDelete("/adapters/{name}", (HttpContext c, IOptions<GatewayOptions> o, string name) => Broadcast(c, o, HttpMethod.Delete, $"/v1/adapters/{Uri.EscapeDataString(name)}")).WithName("GatewayUnloadAdapter");
        admin.MapPost("/load_lora_adapter", (HttpContext c, IOptions<GatewayOptions> o) => Broadcast(c, o, HttpMethod.Post, "/v1/load_lora_adapter")).WithName("GatewayLoadLoraAdapter");
        admin.MapPost("/unload_lora_adapter", (HttpContext c, IOptions<GatewayOptions> o) => Broadcast(c, o, HttpMethod.Post, "/v1/unload_lora_adapter")).WithName("GatewayUnloadLoraAdapter");
        return app;
    }

    private static IResult Ready(ReplicaMonitor monitor)
    {
        var available = monitor.Cluster?.DestinationsState.AvailableDestinations.Count ?? 0;
        return available > 0 && monitor.Current.Loaded
            ? Results.Ok(new { status = "ready", replicas = available })
            : Results.Json(new { status = "waiting", replicas = available, catalogue = monitor.Current.Loaded }, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>The union of the healthy replicas' lists (by id, first seen wins); their error if none answered 200.</summary>
    private static async Task<IResult> Models(HttpContext context)
    {
        var available = FanOut.Available(context);
        if (available.Count == 0)
        {
            return NoReplica();
        }

        var answers = await FanOut.SendAsync(context, available, HttpMethod.Get, "/v1/models", body: null);
        var ok = answers.Where(a => a.Status == 200 && a.Body?["data"] is JsonArray).ToArray();
        if (ok.Length == 0)
        {
            var first = answers[0];
            return Results.Json(first.Body, statusCode: first.Status);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var data = new JsonArray();
        foreach (var model in ok.SelectMany(a => a.Body!["data"]!.AsArray()))
        {
            if (model?["id"]?.GetValue<string>() is { } id && seen.Add(id))
            {
                data.Add(model.DeepClone());
            }
        }

        return Results.Json(new JsonObject { ["object"] = "list", ["data"] = data });
    }

    /// <summary>
    /// Sends an admin request to every replica (healthy or not: each result is reported). The status is the
    /// replicas' common status, or 207 when they differ; the body lists every replica's status and answer.
    /// </summary>
    private static async Task<IResult> Broadcast(HttpContext context, IOptions<GatewayOptions> options, HttpMethod method, string path)
    {
        var all = FanOut.All(context);
        if (all.Count == 0)
        {
            return NoReplica();
        }

        byte[]? body = null;
        if (method != HttpMethod.Delete)
        {
            body = await BodyReader.ReadAsync(context, options.Value.MaxRequestBodyBytes);
            if (body is null)
            {
                return Results.Json(GatewayErrors.Body(413, $"request body exceeds {options.Value.MaxRequestBodyBytes} bytes (Gateway:MaxRequestBodyBytes)", "request_too_large"), statusCode: 413);
            }
        }

        var answers = await FanOut.SendAsync(context, all, method, path, body);
        var statuses = answers.Select(a => a.Status).Distinct().ToArray();
        var results = new JsonArray(answers.Select(a => (JsonNode)new JsonObject { ["replica"] = a.Replica, ["status"] = a.Status, ["body"] = a.Body?.DeepClone() }).ToArray());
        return Results.Json(new JsonObject { ["object"] = "list", ["data"] = results }, statusCode: statuses.Length == 1 ? statuses[0] : StatusCodes.Status207MultiStatus);
    }

    private static IResult NoReplica() =>
        Results.Json(GatewayErrors.Body(503, "no healthy replica is available; retry shortly", "no_replica"), statusCode: 503);
}
