using InferenceHost.Hosting;

namespace InferenceHost.Apis;

/// <summary>Liveness (the process answers) and readiness (the model is loaded).</summary>
public static class HealthApi
{
    public static RouteGroupBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/health").WithTags("Health");
        api.MapGet("/live", () => Results.Ok(new { status = "live" })).WithName("Live");
        api.MapGet("/ready", (ModelHost host) => host.IsReady
            ? Results.Ok(new { status = "ready", model = host.Current.Name })
            : Results.Json(new { status = host.LoadError is null ? "loading" : "failed", error = host.LoadError }, statusCode: StatusCodes.Status503ServiceUnavailable)).WithName("Ready");
        return api;
    }
}
