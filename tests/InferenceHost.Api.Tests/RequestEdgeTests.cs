using System.Net;
using System.Net.Sockets;
using System.Text;

namespace InferenceHost.Api.Tests;

/// <summary>Requests the fuzzer found answering 500: null list entries, and a chunk size that overflows.</summary>
public sealed class RequestEdgeTests
{
    [Theory]
    [InlineData("/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 1, \"adapters\": [null]}", "adapters[0]")]
    [InlineData("/v1/completions", "{\"prompt\": [[1], null], \"max_tokens\": 1}", "prompt[1]")]
    [InlineData("/v1/completions", "{\"prompt\": [\"a\", null], \"max_tokens\": 1}", "prompt[1]")]
    [InlineData("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, null], \"max_tokens\": 1}", "messages[1]")]
    [InlineData("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"a\"}, null]}]}", "messages[0].content[1]")]
    public async Task A_null_list_entry_is_a_400_naming_it(string route, string body, string param)
    {
        await using var factory = new ApiFactory();
        var client = await factory.ReadyAsync();
        var r = await client.PostRawAsync(route, body);
        Assert.Contains("null", r.Error(HttpStatusCode.BadRequest));
        Assert.Equal(param, r.Body.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task A_field_name_with_a_lone_surrogate_is_still_a_400()
    {
        await using var factory = new ApiFactory();
        var client = await factory.ReadyAsync();
        var r = await client.PostRawAsync("/v1/completions", "{\"\\udfff\": 1, \"prompt\": [\"a\", null]}");
        r.Error(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_chunk_size_that_overflows_is_a_400_with_an_error_body()
    {
        await using var factory = new ApiFactory();
        var url = new Uri(await factory.StartOnLoopbackAsync());
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n"));
        var buffer = new byte[4096];
        var text = new StringBuilder();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int n;
        while (!text.ToString().Contains("\r\n\r\n{", StringComparison.Ordinal) && (n = await stream.ReadAsync(buffer, cts.Token)) > 0)
        {
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        Assert.StartsWith("HTTP/1.1 400 ", text.ToString());
    }
}
