using System.Text;

namespace InferenceHost.Fuzz.Cases;

/// <summary>Raw HTTP/1.1 on a TCP socket: broken request lines, conflicting lengths, chunked garbage, partial requests, pipelining.</summary>
internal static class FramingFamily
{
    private const string Json = "{\"prompt\": \"hi\", \"max_tokens\": 1}";

    public static FuzzCase Generate(Random r, FuzzContext c, string authorization)
    {
        var auth = $"Authorization: {authorization}\r\n";
        string Post(string extraHeaders, string body, string target = Routes.Completions, string version = "HTTP/1.1") =>
            $"POST {target} {version}\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\n{extraHeaders}\r\n{body}";
        string Complete(string close = "") => Post($"Content-Length: {Json.Length}\r\n{close}", Json);
        var cases = new (string What, Func<byte[]> Bytes, bool MayWait, int Responses)[]
        {
            ("garbage request line", () => Bytes("GARBAGE\r\n\r\n"), false, 1),
            ("HTTP/9.9", () => Bytes("GET /health/live HTTP/9.9\r\nHost: x\r\n\r\n"), false, 1),
            ("two different Content-Lengths", () => Bytes(Post("Content-Length: 10\r\nContent-Length: 20\r\n", Json)), false, 1),
            ("Content-Length and chunked", () => Bytes(Post($"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", $"{Json.Length:X}\r\n{Json}\r\n0\r\n\r\n")), false, 1),
            ("chunk size not hex", () => Bytes(Post("Transfer-Encoding: chunked\r\n", "ZZZ\r\nabc\r\n0\r\n\r\n")), false, 1),
            ("chunk size 2^64-1", () => Bytes(Post("Transfer-Encoding: chunked\r\n", "FFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n")), false, 1),
            ("10k-char chunk extension", () => Bytes(Post("Transfer-Encoding: chunked\r\n", $"3;{new string('x', 10_000)}\r\nabc\r\n0\r\n\r\n")), false, 1),
            ("chunk longer than its size", () => Bytes(Post("Transfer-Encoding: chunked\r\n", "2\r\nabcdef\r\n0\r\n\r\n")), false, 1),
            ("valid chunked body with a trailer", () => Bytes(Post("Transfer-Encoding: chunked\r\nConnection: close\r\n", $"{Json.Length:X}\r\n{Json}\r\n0\r\nX-T: 1\r\n\r\n")), false, 1),
            ("Content-Length -1", () => Bytes(Post("Content-Length: -1\r\n", Json)), false, 1),
            ("Content-Length 10^20", () => Bytes(Post("Content-Length: 99999999999999999999\r\n", Json)), false, 1),
            ("Content-Length 1e3", () => Bytes(Post("Content-Length: 1e3\r\n", Json)), false, 1),
            ("body shorter than Content-Length (slowloris body)", () => Bytes(Post("Content-Length: 1000\r\n", Json)), true, 1),
            ("headers never finished (slowloris headers)", () => Bytes($"POST {Routes.Completions} HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n"), true, 1),
            ("connection opened, nothing sent", () => [], true, 1),
            ("two requests pipelined", () => Bytes(Complete() + Complete("Connection: close\r\n")), false, 2),
            ("a request then garbage, pipelined", () => Bytes(Complete() + "GARBAGE\r\n\r\n"), false, 2),
            ("HTTP/1.0 without Host", () => Bytes($"POST {Routes.Completions} HTTP/1.0\r\n{auth}Content-Length: {Json.Length}\r\n\r\n{Json}"), false, 1),
            ("header line without colon", () => Bytes(Post($"NoColonHere\r\nContent-Length: {Json.Length}\r\n", Json)), false, 1),
            ("NUL and control bytes in a header", () => Bytes(Post($"X-Bad: a\0b\x01c\r\nContent-Length: {Json.Length}\r\n", Json)), false, 1),
            ("obs-fold header", () => Bytes(Post($"X-Fold: a\r\n b\r\nContent-Length: {Json.Length}\r\n", Json)), false, 1),
            ("40 KB header", () => Bytes(Post($"X-Big: {new string('h', 40_000)}\r\nContent-Length: {Json.Length}\r\n", Json)), false, 1),
            ("10 KB request target", () => Bytes(Post($"Content-Length: {Json.Length}\r\n", Json, "/v1/" + new string('t', 10_000))), false, 1),
            ("LF-only line endings", () => Bytes(Post($"Content-Length: {Json.Length}\r\nConnection: close\r\n", Json).Replace("\r\n", "\n", StringComparison.Ordinal)), false, 1),
            ("Expect: 100-continue", () => Bytes(Post($"Expect: 100-continue\r\nContent-Length: {Json.Length}\r\nConnection: close\r\n", Json)), false, 1),
            ("absolute-form target", () => Bytes(Post($"Content-Length: {Json.Length}\r\nConnection: close\r\n", Json, "http://example.invalid/v1/completions")), false, 1),
            ("HTTP/2 preface on HTTP/1.1", () => Bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), true, 1), // another protocol: closing is fine
            ("TLS ClientHello", () => [0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03, .. new byte[40]], false, 1),
            ("HTTP/1.1 without Host", () => Bytes($"GET /health/live HTTP/1.1\r\n\r\n"), false, 1),
            ("two Host headers", () => Bytes("GET /health/live HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), false, 1),
            ("Transfer-Encoding gzip, chunked", () => Bytes(Post("Transfer-Encoding: gzip, chunked\r\n", "3\r\nabc\r\n0\r\n\r\n")), false, 1),
            ("Transfer-Encoding xchunked", () => Bytes(Post($"Transfer-Encoding: xchunked\r\nContent-Length: {Json.Length}\r\n", Json)), false, 1),
            ("WebSocket upgrade on completions", () => Bytes(Post($"Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: {Json.Length}\r\n", Json)), false, 1),
            ("non-UTF-8 bytes in the target", () => [.. Bytes("GET /v1/"), 0xFF, 0xFE, .. Bytes(" HTTP/1.1\r\nHost: x\r\n\r\n")], false, 1),
            ("a streamed completion over a raw socket", () => Bytes(Post($"Content-Length: {StreamJson.Length}\r\n", StreamJson)), false, 1),
        };
        var (what, bytes, mayWait, responses) = r.One(cases);
        return new()
        {
            Family = "http-framing", Description = what, Raw = bytes(), MayWait = mayWait, ExpectedResponses = responses,
            ProtocolStatus = what == "HTTP/9.9" ? 505 : null,
        };
    }

    private const string StreamJson = "{\"prompt\": \"hi\", \"max_tokens\": 64, \"stream\": true}";

    private static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);
}
