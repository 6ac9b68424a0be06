using System.Text.Json;

namespace InferenceHost.Gateway.Hosting;

/// <summary>OpenAI-shaped error bodies, <c>{"error": {message, type, param, code}}</c>, with the server's status-to-type mapping.</summary>
public static class GatewayErrors
{
    public static string Type(int status) => status switch
    {
        400 or 404 or 413 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        503 => "service_unavailable",
        _ => "server_error",
    };

    public static object Body(int status, string message, string code, string? param = null) =>
        new { error = new { message, type = Type(status), param, code } };

    public static Task WriteAsync(HttpContext context, int status, string message, string code, string? param = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(Body(status, message, code, param)), context.RequestAborted);
    }
}
