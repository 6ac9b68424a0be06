using System.Text.Json;

namespace InferenceHost.Apis;

/// <summary>A failure with one status code and an OpenAI-shaped body: <c>{"error": {message, type, param, code}}</c>.</summary>
public sealed class ApiException(int status, string message, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;

    public string? Param { get; } = param;

    public string? Code { get; } = code;

    /// <summary>Seconds for a Retry-After header (429).</summary>
    public int? RetryAfter { get; init; }

    public string Type => Status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        503 => "service_unavailable",
        >= 400 and < 500 => "invalid_request_error",
        _ => "server_error",
    };

    public static ApiException BadRequest(string message, string? param = null, string code = "invalid_value") => new(400, message, param, code);

    public static ApiException NotFound(string message, string? param = "model") => new(404, message, param, "model_not_found");
}

/// <summary>Turns <see cref="ApiException"/> (and oversized bodies) into OpenAI error responses.</summary>
public static class ApiErrors
{
    public static IApplicationBuilder UseOpenAiErrors(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
            if (!context.Response.HasStarted && context.Response.StatusCode is 404 or 405 && context.Request.Path.StartsWithSegments("/v1"))
            {
                // Routing's own 404/405 carry no body: give OpenAI clients the error shape they parse.
                await WriteAsync(context, context.Response.StatusCode == 404
                    ? new ApiException(404, $"no route {context.Request.Method} {context.Request.Path}", code: "unknown_url")
                    : new ApiException(405, $"{context.Request.Method} is not allowed on {context.Request.Path}", code: "method_not_allowed"));
            }
        }
        catch (ApiException e) when (!context.Response.HasStarted)
        {
            await WriteAsync(context, e);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted && e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteAsync(context, new ApiException(413, "request body too large", code: "request_too_large"));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // the client went away; nothing to answer
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            // A bug, not bad input: still an OpenAI-shaped answer (never a cut connection or an HTML page), and logged.
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("InferenceHost.Errors").LogError(e, "Unhandled error on {Path}", context.Request.Path);
            await WriteAsync(context, new ApiException(500, $"internal error: {e.GetType().Name}: {e.Message}", code: "internal_error"));
        }
    });

    public static Task WriteAsync(HttpContext context, ApiException e)
    {
        context.Response.StatusCode = e.Status;
        if (e.Status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer"; // RFC 6750
        }

        if (e.RetryAfter is { } s)
        {
            context.Response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(Body(e)), context.RequestAborted);
    }

    public static object Body(ApiException e) => new { error = new { message = e.Message, type = e.Type, param = e.Param, code = e.Code } };
}
