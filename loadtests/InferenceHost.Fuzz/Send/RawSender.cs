using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using InferenceHost.Fuzz.Cases;

namespace InferenceHost.Fuzz.Send;

/// <summary>
/// Sends a framing case's bytes on a new TCP connection and reads until the server closes it, has been quiet
/// for a moment after the expected responses, or the wait is over. Partial requests get a short wait only.
/// </summary>
public static partial class RawSender
{
    public static async Task<Outcome> SendAsync(Uri baseUrl, FuzzCase c, TimeSpan timeout, TimeSpan partialWait, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var wait = c.MayWait ? partialWait : timeout;
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(baseUrl.Host, baseUrl.Port, ct);
        var stream = tcp.GetStream();
        var received = new MemoryStream();
        string? error = null;
        try
        {
            await stream.WriteAsync(c.Raw ?? [], ct);
        }
        catch (IOException e)
        {
            error = e.Message; // the server may answer and close before it has read everything
        }

        var buffer = new byte[64 * 1024];
        var closed = false;
        while (clock.Elapsed < wait && !closed)
        {
            var done = Statuses(received).Count >= c.ExpectedResponses;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(done ? TimeSpan.FromSeconds(1) : wait - clock.Elapsed);
            try
            {
                var n = await stream.ReadAsync(buffer, cts.Token);
                closed = n == 0;
                received.Write(buffer, 0, n);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                if (done)
                {
                    break;
                }
            }
            catch (IOException e)
            {
                error = e.Message;
                closed = true;
            }
        }

        return Classify(c, received, closed, error, clock.Elapsed.TotalMilliseconds);
    }

    private static Outcome Classify(FuzzCase c, MemoryStream received, bool closed, string? error, double ms)
    {
        var statuses = Statuses(received);
        var text = Encoding.Latin1.GetString(received.ToArray());
        var excerpt = SseCheck.Excerpt(text);
        if (statuses.Count >= c.ExpectedResponses || (statuses.Count > 0 && closed))
        {
            if (text.Contains("text/event-stream", StringComparison.Ordinal) && !text.Contains("data: [DONE]", StringComparison.Ordinal))
            {
                return new(Outcome.CutStream, ms, "the streamed answer did not end with data: [DONE]", excerpt);
            }

            var worst = statuses.Max();
            var label = worst == c.ProtocolStatus ? $"{worst}-protocol" : worst.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return new(label, ms, null, excerpt); // "505-protocol": the right answer to HTTP/9.9, not a server failure
        }

        if (c.MayWait)
        {
            return new(Outcome.Waiting, ms, closed ? "the server closed the partial request" : null, excerpt);
        }

        return closed
            ? new(Outcome.Reset, ms, $"closed after {statuses.Count} of {c.ExpectedResponses} responses{(error is null ? string.Empty : $" ({error})")}", excerpt)
            : new(Outcome.Hang, ms, $"{statuses.Count} of {c.ExpectedResponses} responses before the wait ended", excerpt);
    }

    private static List<int> Statuses(MemoryStream received)
    {
        var text = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
        return StatusLine().Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
    }

    [GeneratedRegex(@"(?:^|\r\n)HTTP/1\.[01] (\d{3}) ")]
    private static partial Regex StatusLine();
}
