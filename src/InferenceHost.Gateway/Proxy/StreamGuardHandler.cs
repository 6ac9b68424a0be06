using System.Diagnostics;
using System.Text;
using System.Text.Json;
using InferenceHost.Gateway.Hosting;
using Yarp.ReverseProxy.Forwarder;

namespace InferenceHost.Gateway.Proxy;

/// <summary>
/// YARP's forwarder HttpClient with one handler added (<see cref="ForwarderHttpClientFactory.WrapHandler"/>):
/// it times each replica's answer to its headers (for the added-latency metric) and guards event streams.
/// </summary>
public sealed class GuardedForwarderHttpClientFactory(Telemetry.GatewayTelemetry telemetry) : ForwarderHttpClientFactory
{
    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new StreamGuardHandler(telemetry) { InnerHandler = base.WrapHandler(context, handler) };
}

/// <summary>
/// When a replica's <c>text/event-stream</c> breaks after its first byte reached us, the stream is finished the
/// OpenAI way — <c>data: {"error": ...}</c> then <c>data: [DONE]</c> — instead of being cut (YARP would abort
/// the client's connection). A break before the first byte is rethrown, so the request is retried elsewhere.
/// </summary>
public sealed class StreamGuardHandler(Telemetry.GatewayTelemetry telemetry) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var response = await base.SendAsync(request, cancellationToken);
        request.Options.Set(ReplicaResponseTransform.ReplicaTimeToHeaders, Stopwatch.GetElapsedTime(started));
        if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            return response;
        }

        var replica = request.RequestUri?.Authority ?? "replica";
        var inner = await response.Content.ReadAsStreamAsync(cancellationToken);
        var guarded = new StreamContent(new GuardedSseStream(inner, replica, () => telemetry.StreamBroken(replica)));
        foreach (var h in response.Content.Headers)
        {
            guarded.Headers.TryAddWithoutValidation(h.Key, h.Value);
        }

        response.Content = guarded;
        return response;
    }
}

/// <summary>Reads through to the replica's stream; after a failure past the first byte, yields the error tail once, then ends.</summary>
internal sealed class GuardedSseStream(Stream inner, string replica, Action broken) : Stream
{
    private long delivered;
    private ReadOnlyMemory<byte>? tail;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => delivered; set => throw new NotSupportedException(); }

    public static byte[] ErrorTail(string message) => Encoding.UTF8.GetBytes(
        "\n\ndata: " + JsonSerializer.Serialize(GatewayErrors.Body(502, message, "replica_failed")) + "\n\ndata: [DONE]\n\n");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (tail is null)
        {
            try
            {
                var n = await inner.ReadAsync(buffer, cancellationToken);
                delivered += n;
                return n;
            }
            catch (Exception e) when (delivered > 0 && e is IOException or HttpRequestException or OperationCanceledException)
            {
                broken();
                tail = ErrorTail($"replica {replica} failed in the middle of the stream: {e.Message}");
            }
        }

        var rest = tail.Value;
        var count = Math.Min(rest.Length, buffer.Length);
        rest[..count].CopyTo(buffer);
        tail = rest[count..];
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
