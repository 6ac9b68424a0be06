using Microsoft.Extensions.FileProviders;

// Namespace WebConsole, not Console: InferenceHost.Console would hide System.Console from the rest of the host.
namespace InferenceHost.WebConsole;

/// <summary>
/// The web console at <c>/console</c>: static HTML, CSS and JavaScript embedded in this assembly (no CDN,
/// no build step), served with a strict Content-Security-Policy. The page holds no data: everything it
/// shows comes from the API routes, which keep their own key checks; the page asks for the key and sends
/// it as a Bearer header (never a cookie, so no cross-site request can act with it). See docs/console.md.
/// </summary>
public static class ConsoleApi
{
    public const string Path = "/console";

    private const string Csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static IApplicationBuilder MapConsoleApi(this IApplicationBuilder app)
    {
        var files = new ManifestEmbeddedFileProvider(typeof(ConsoleApi).Assembly, "Console/wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = Path,
            OnPrepareResponse = c =>
            {
                var h = c.Context.Response.Headers;
                h.ContentSecurityPolicy = Csp;
                h.XContentTypeOptions = "nosniff";
                h.XFrameOptions = "DENY";
                h["Referrer-Policy"] = "no-referrer";
                h.CacheControl = "no-cache"; // revalidate (ETag) so an upgraded server's console is picked up at once
            },
        });
        return app;
    }
}
