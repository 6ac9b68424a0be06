using InferenceHost.Apis;
using InferenceHost.Security;
using Microsoft.Extensions.Options;

namespace InferenceHost.Hosting;

/// <summary>
/// Bearer-key checks (rules in <see cref="ApiKeyCheck"/>, shared with the gateway): with no keys configured the
/// server is open. Generation routes accept any API or admin key; admin routes need an admin key when
/// <c>Auth:AdminKeys</c> is set (401 bad key, 403 not admin).
/// </summary>
public sealed class ApiKeyFilter(bool admin) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        Authorize(context.HttpContext, admin);
        return next(context);
    }

    /// <summary>Throws the 401/403 <see cref="ApiException"/> when the request's key does not allow the route.</summary>
    public static void Authorize(HttpContext http, bool admin)
    {
        var auth = http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value;
        var refusal = ApiKeyCheck.Check(http.Request.Headers.Authorization.ToString(), auth.ApiKeys, auth.AdminKeys, admin);
        if (refusal is not null)
        {
            throw new ApiException(refusal.Status, refusal.Message, code: refusal.Code);
        }
    }
}

public static class ApiKeyFilterExtensions
{
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(new ApiKeyFilter(admin: false));

    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(new ApiKeyFilter(admin: true));

    /// <summary>
    /// The same check in front of a path whose endpoint is not a route handler (endpoint filters do not run
    /// for those, e.g. the Prometheus scrape), when <paramref name="enabled"/>.
    /// </summary>
    public static IApplicationBuilder RequireApiKeyFor(this IApplicationBuilder app, PathString path, bool enabled) =>
        !enabled ? app : app.UseWhen(c => c.Request.Path.StartsWithSegments(path), b => b.Use((context, next) =>
        {
            ApiKeyFilter.Authorize(context, admin: false);
            return next(context);
        }));
}
