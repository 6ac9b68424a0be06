using System.Text.Json;
using System.Text.Json.Nodes;
using InferenceHost.Gateway.Hosting;
using InferenceHost.Gateway.Proxy;
using InferenceHost.Gateway.Routing;
using Yarp.ReverseProxy.Model;

namespace InferenceHost.Gateway.Apis;

/// <summary>One replica's answer to a fanned-out request.</summary>
public sealed record ReplicaAnswer(string Replica, int Status, JsonNode? Body);

/// <summary>Sends one request to several replicas at once, passing the client's Authorization header on.</summary>
public static class FanOut
{
    public static async Task<ReplicaAnswer[]> SendAsync(HttpContext context, IEnumerable<DestinationState> replicas, HttpMethod method, string path, byte[]? body)
    {
        var client = context.RequestServices.GetRequiredService<IHttpClientFactory>().CreateClient(ReplicaMonitor.HttpClientName);
        var authorization = context.Request.Headers.Authorization.ToString();
        var tasks = replicas.Select(async d =>
        {
            var address = d.Model.Config.Address.TrimEnd('/');
            using var request = new HttpRequestMessage(method, address + path);
            if (authorization.Length > 0)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new("application/json");
            }

            try
            {
                using var response = await client.SendAsync(request, context.RequestAborted);
                var text = await response.Content.ReadAsStringAsync(context.RequestAborted);
                return new ReplicaAnswer(d.DestinationId, (int)response.StatusCode, Parse(text));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !context.RequestAborted.IsCancellationRequested)
            {
                return new ReplicaAnswer(d.DestinationId, 502, JsonSerializer.SerializeToNode(GatewayErrors.Body(502, $"replica {d.DestinationId} did not answer: {e.Message}", "replica_failed")));
            }
        });
        var answers = await Task.WhenAll(tasks);
        context.Items[ReplicaHeaderMiddleware.ReplicasItem] = string.Join(',', answers.Select(a => a.Replica));
        return answers;
    }

    public static IReadOnlyList<DestinationState> All(HttpContext context) =>
        context.RequestServices.GetRequiredService<ReplicaMonitor>().Cluster?.Destinations.Values.OrderBy(d => d.DestinationId, StringComparer.Ordinal).ToArray() ?? [];

    public static IReadOnlyList<DestinationState> Available(HttpContext context) =>
        context.RequestServices.GetRequiredService<ReplicaMonitor>().Cluster?.DestinationsState.AvailableDestinations ?? [];

    private static JsonNode? Parse(string text)
    {
        try
        {
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}
