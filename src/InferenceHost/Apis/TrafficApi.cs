using System.Globalization;
using System.Text.Json;
using InferenceHost.Hosting;
using InferenceHost.Telemetry;

namespace InferenceHost.Apis;

/// <summary>
/// <c>GET /v1/traffic?window=300&amp;step=5</c>: request rate, tokens/s and TTFT / time-per-output-token
/// percentiles over the last minutes, in total and per adapter combination, with per-bucket series for
/// charts (the console's Traffic view). Served from <see cref="TrafficWindow"/>, in memory.
/// </summary>
public static class TrafficApi
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static IEndpointRouteBuilder MapTrafficApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").WithTags("Traffic").RequireApiKey().MapGet("/traffic", Traffic).WithName("Traffic");
        return app;
    }

    private static IResult Traffic(TrafficWindow traffic, string? window, string? step)
    {
        var max = (int)TrafficWindow.Span.TotalSeconds;
        var w = Seconds(window, "window", 300, 10, max);
        var s = Seconds(step, "step", Math.Max(1, w / 60), 1, w); // at most 900 buckets: window ≤ 900 s, step ≥ 1 s
        var (now, samples) = traffic.Snapshot(TimeSpan.FromSeconds(w + s));
        return Results.Json(TrafficReport.Build(now, samples, w, s), Json);
    }

    private static int Seconds(string? value, string name, int fallback, int min, int max)
    {
        if (value is null)
        {
            return fallback;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw ApiException.BadRequest($"'{name}' must be a whole number of seconds from {min} to {max}, got '{value}'", name);
    }
}
