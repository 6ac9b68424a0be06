using System.Security.Cryptography;
using System.Text;
using InferenceHost.Apis;
using Microsoft.Extensions.Options;

namespace InferenceHost.Hosting;

/// <summary>
/// Bearer-key checks: with no keys configured the server is open. Generation routes accept any API or
/// admin key; admin routes need an admin key when <c>Auth:AdminKeys</c> is set (401 bad key, 403 not admin).
/// Keys are compared as SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>.
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
        if (auth.ApiKeys.Count == 0 && auth.AdminKeys.Count == 0)
        {
            return;
        }

        var header = http.Request.Headers.Authorization.ToString();
        var key = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
        if (key is null)
        {
            throw new ApiException(401, "missing API key: send 'Authorization: Bearer <key>'", code: "invalid_api_key");
        }

        var isAdmin = Matches(key, auth.AdminKeys);
        if (!isAdmin && !Matches(key, auth.ApiKeys))
        {
            throw new ApiException(401, "invalid API key", code: "invalid_api_key");
        }

        if (admin && auth.AdminKeys.Count > 0 && !isAdmin)
        {
            throw new ApiException(403, "this route needs an admin key (Auth:AdminKeys)", code: "insufficient_permissions");
        }
    }

    private static bool Matches(string key, IEnumerable<string> keys)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        var found = false;
        foreach (var k in keys)
        {
            found |= CryptographicOperations.FixedTimeEquals(digest, SHA256.HashData(Encoding.UTF8.GetBytes(k)));
        }

        return found;
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
