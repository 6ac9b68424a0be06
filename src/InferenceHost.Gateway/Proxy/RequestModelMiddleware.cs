using InferenceHost.Gateway.Hosting;
using InferenceHost.Gateway.Routing;
using Microsoft.Extensions.Options;

namespace InferenceHost.Gateway.Proxy;

/// <summary>
/// Proxy-pipeline step before load balancing: reads a generation request's body (up to
/// <c>Gateway:MaxRequestBodyBytes</c>, 413 beyond), finds its <c>model</c> and <c>adapters</c> for the affinity
/// policy, and leaves the bytes as a rewindable body so a retry can send them again.
/// </summary>
public sealed class RequestModelMiddleware(RequestDelegate next, IOptions<GatewayOptions> options)
{
    private static readonly string[] GenerationPaths = ["/v1/completions", "/v1/chat/completions"];

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsPost(request.Method) && GenerationPaths.Contains(request.Path.Value?.TrimEnd('/'), StringComparer.OrdinalIgnoreCase))
        {
            var max = options.Value.MaxRequestBodyBytes;
            var body = await BodyReader.ReadAsync(context, max);
            if (body is null)
            {
                await GatewayErrors.WriteAsync(context, 413, $"request body exceeds {max} bytes (Gateway:MaxRequestBodyBytes)", "request_too_large");
                return;
            }

            context.Features.Set(RequestedModel.Parse(body));
            request.Body = new MemoryStream(body, writable: false);
            request.ContentLength = body.Length;
            request.Headers.TransferEncoding = default;
        }

        await next(context);
    }
}
