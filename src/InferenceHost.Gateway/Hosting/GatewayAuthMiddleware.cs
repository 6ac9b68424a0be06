using InferenceHost.Security;
using Microsoft.Extensions.Options;

namespace InferenceHost.Gateway.Hosting;

/// <summary>
/// Checks bearer keys before anything is proxied or fanned out, with the server's rules (<see cref="ApiKeyCheck"/>):
/// <c>/health/*</c> and <c>/metrics</c> are open, adapter management needs an admin key, every other route any key.
/// The Authorization header then travels on to the replicas unchanged (they may check it again).
/// </summary>
public sealed class GatewayAuthMiddleware(RequestDelegate next, IOptionsMonitor<GatewayAuthOptions> auth)
{
    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics"))
        {
            return next(context);
        }

        var keys = auth.CurrentValue;
        var refusal = ApiKeyCheck.Check(context.Request.Headers.Authorization.ToString(), keys.ApiKeys, keys.AdminKeys, IsAdmin(path));
        return refusal is null ? next(context) : GatewayErrors.WriteAsync(context, refusal.Status, refusal.Message, refusal.Code);
    }

    /// <summary>The server's admin routes: its <c>/v1/adapters</c> group and vLLM's load/unload spellings.</summary>
    public static bool IsAdmin(PathString path) =>
        path.StartsWithSegments("/v1/adapters") || path.StartsWithSegments("/v1/load_lora_adapter") || path.StartsWithSegments("/v1/unload_lora_adapter");
}
