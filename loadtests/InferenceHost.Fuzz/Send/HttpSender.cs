using System.Diagnostics;
using System.Text;
using System.Text.Json;
using InferenceHost.Fuzz.Cases;

namespace InferenceHost.Fuzz.Send;

/// <summary>Sends HTTP cases with <see cref="HttpClient"/> (no proxy, no redirects) and reads each answer to its end.</summary>
public sealed class HttpSender(Uri baseUrl, string? authorization, TimeSpan timeout) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, MaxConnectionsPerServer = 256 })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public Uri BaseUrl => baseUrl;

    public HttpClient Client => _http;

    public async Task<Outcome> SendAsync(FuzzCase c, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        using var request = Build(c);
        HttpResponseMessage? response = null;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            var bytes = await response.Content.ReadAsByteArrayAsync(cts.Token);
            return Classify(c, response, Encoding.UTF8.GetString(bytes), clock.Elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new(Outcome.Hang, clock.Elapsed.TotalMilliseconds, $"no complete answer within {timeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            var streaming = response?.Content.Headers.ContentType?.MediaType == "text/event-stream";
            return new(streaming ? Outcome.CutStream : Outcome.Reset, clock.Elapsed.TotalMilliseconds,
                $"{(response is null ? "before" : $"after HTTP {(int)response.StatusCode}")}: {Flatten(e)}");
        }
        finally
        {
            response?.Dispose();
        }
    }

    private HttpRequestMessage Build(FuzzCase c)
    {
        var request = new HttpRequestMessage(new HttpMethod(c.Method), new Uri(baseUrl.GetLeftPart(UriPartial.Authority) + c.Path));
        if (c.Body.Length > 0 || c.ContentType is not null)
        {
            request.Content = new ByteArrayContent(c.Body);
            if (c.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
            }
        }

        if (c.SendAuth && (c.Authorization ?? authorization) is { } auth)
        {
            request.Headers.TryAddWithoutValidation("Authorization", auth);
        }

        return request;
    }

    private static Outcome Classify(FuzzCase c, HttpResponseMessage response, string body, double ms)
    {
        var code = (int)response.StatusCode;
        var status = code.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var excerpt = SseCheck.Excerpt(body);
        var media = response.Content.Headers.ContentType?.MediaType;
        if (media == "text/event-stream")
        {
            return SseCheck.Problem(body) is { } p ? new(p.Cut ? Outcome.CutStream : Outcome.BadSse, ms, p.Problem, excerpt) : new(status, ms, null, excerpt);
        }

        var json = media == "application/json" && body.Length > 0 ? TryParse(body) : null;
        if (code is >= 200 and < 300 && media == "application/json" && json is null)
        {
            return new(Outcome.BadJson, ms, "a 2xx body that is not JSON", excerpt);
        }

        var unshaped = code is >= 400 and < 500 && c.Path.StartsWith("/v1/", StringComparison.Ordinal)
            && !(json is { ValueKind: JsonValueKind.Object } j && j.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object
                 && e.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String);
        return new(status, ms, null, excerpt) { Unshaped = unshaped };
    }

    private static JsonElement? TryParse(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string Flatten(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x is not null; x = x.InnerException)
        {
            parts.Add(x.Message);
        }

        return string.Join(" <- ", parts.Distinct());
    }

    public void Dispose() => _http.Dispose();
}
