using System.Text;
using InferenceHost.LoadTests.Client;
using InferenceHost.LoadTests.Metrics;

namespace InferenceHost.LoadTests.Tests;

public class StreamReadingTests
{
    private const string Stream =
        "data: {\"choices\":[{\"text\":\"Hé\"}]}\r\n\r\n" +
        ": keep-alive comment\n\n" +
        "event: ignored\ndata: {\"choices\":[{\"text\":\"llo\"}]}\n\n" +
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2}}\n\n" +
        "data: [DONE]\n\n";

    /// <summary>A stream that hands out at most <c>piece</c> bytes per read, as a network does.</summary>
    private sealed class Trickle(byte[] bytes, int piece) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, piece));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => base.ReadAsync(buffer[..Math.Min(buffer.Length, piece)], ct);
    }

    [Theory]
    [InlineData(1)] // every byte separately: splits "\r\n", the UTF-8 'é' and "data:" itself
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task Chunks_split_across_reads_give_the_same_result(int pieceSize)
    {
        using var stream = new Trickle(Encoding.UTF8.GetBytes(Stream), pieceSize);
        var r = await CompletionClient.ReadStreamAsync(stream, System.Diagnostics.Stopwatch.GetTimestamp(), new RequestResult(), CancellationToken.None);
        Assert.True(r.Ok, r.Error);
        Assert.Equal(2, r.OutputTokens);
        Assert.True(r.TokensFromUsage);
        Assert.Equal(7, r.PromptTokens);
        Assert.Single(r.ItlMs); // two text chunks: one gap
    }

    [Fact]
    public async Task An_error_event_or_a_stream_without_tokens_is_a_stream_error()
    {
        using var failed = new Trickle("data: {\"error\":{\"message\":\"boom\"}}\n\ndata: [DONE]\n\n"u8.ToArray(), 5);
        var r = await CompletionClient.ReadStreamAsync(failed, System.Diagnostics.Stopwatch.GetTimestamp(), new RequestResult(), CancellationToken.None);
        Assert.Equal(("stream-error", "boom"), (r.Outcome, r.Error));
        using var empty = new Trickle("data: [DONE]"u8.ToArray(), 3); // unterminated last event: still read
        Assert.Equal("stream-error", (await CompletionClient.ReadStreamAsync(empty, 0, new RequestResult(), CancellationToken.None)).Outcome);
    }

    [Theory]
    [InlineData("{\"error\":{\"message\":\"adapter not found\",\"type\":\"invalid_request_error\"}}", "adapter not found")]
    [InlineData("{\"object\":\"error\",\"message\":\"queue full\",\"code\":429}", "queue full")]
    [InlineData("{\"error\":\"plain string error\"}", "plain string error")]
    [InlineData("Service Unavailable", "Service Unavailable")]
    [InlineData("", "(empty body)")]
    public void Error_bodies_give_a_message(string body, string expected)
        => Assert.Equal(expected, CompletionChunk.ErrorFromBody(body));

    [Fact]
    public void Error_inside_the_stream_and_malformed_json_are_errors_not_exceptions()
    {
        Assert.Equal("boom", CompletionChunk.Parse("{\"error\":{\"message\":\"boom\"}}").Error);
        Assert.StartsWith("malformed chunk", CompletionChunk.Parse("{not json").Error);
    }
}

public class LatencySummaryTests
{
    [Fact]
    public void Percentiles_of_1_to_1000_ms()
    {
        LatencySummary s = LatencySummary.From(Enumerable.Range(1, 1000).Select(i => (double)i));
        Assert.Equal(1000, s.Count);
        Assert.Equal(500.5, s.Mean, 6);
        Assert.Equal(1000, s.Max);
        Assert.InRange(s.P50, 499.5, 501); // HdrHistogram, 3 significant digits
        Assert.InRange(s.P90, 899.5, 901);
        Assert.InRange(s.P99, 989.5, 991);
    }

    [Fact]
    public void Sub_millisecond_values_keep_their_precision_and_empty_is_zero()
    {
        LatencySummary s = LatencySummary.From([0.25, 0.25, 0.25, 0.5]);
        Assert.InRange(s.P50, 0.249, 0.251);
        Assert.Equal(0.5, s.Max);
        Assert.Equal(LatencySummary.Empty, LatencySummary.From([]));
    }

    [Fact]
    public void Tpot_is_decode_time_per_token_after_the_first()
    {
        var r = new RequestResult { TtftMs = 100, E2eMs = 1000, OutputTokens = 10 };
        Assert.Equal(100, r.TpotMs);
        Assert.Null((r with { OutputTokens = 1 }).TpotMs);
    }
}

public class PrometheusTextTests
{
    private const string Text = """
        # HELP lora_batch_size Batch sizes.
        # TYPE lora_batch_size histogram
        lora_batch_size_bucket{le="1"} 3
        lora_batch_size_bucket{le="+Inf"} 10
        lora_batch_size_sum 42.5
        lora_batch_size_count 10
        lora_mode_info{mode="merged",adapter="a b}c"} 1 1700000000000
        engine_queue_depth 2.5e1
        weird_value NaN
        http_requests_total{method="POST",path="/v1/completions",le="a\"q"} 7

        """;

    [Fact]
    public void Parses_every_series_with_labels_as_key()
    {
        var s = PrometheusText.Parse(Text);
        Assert.Equal(3, s["lora_batch_size_bucket{le=\"1\"}"]);
        Assert.Equal(10, s["lora_batch_size_bucket{le=\"+Inf\"}"]);
        Assert.Equal(42.5, s["lora_batch_size_sum"]);
        Assert.Equal(1, s["lora_mode_info{mode=\"merged\",adapter=\"a b}c\"}"]); // '}' and space inside a label value; timestamp ignored
        Assert.Equal(25, s["engine_queue_depth"]);
        Assert.True(double.IsNaN(s["weird_value"]));
        Assert.Equal(7, s["http_requests_total{method=\"POST\",path=\"/v1/completions\",le=\"a\\\"q\"}"]);
        Assert.Equal(8, s.Count);
    }

    [Fact]
    public void Deltas_select_families_by_substring()
    {
        var before = PrometheusText.Parse("lora_batch_size_count 10\nengine_queue_depth 1\nother_total 5\n");
        var after = PrometheusText.Parse("lora_batch_size_count 25\nengine_queue_depth 0\nother_total 9\nlora_merged_switch_total 3\n");
        var d = MetricDelta.Select(before, after, ["batch_size", "queue", "merged_switch"]).ToDictionary(m => m.Series);
        Assert.Equal(3, d.Count);
        Assert.Equal(15, d["lora_batch_size_count"].Delta);
        Assert.Equal(-1, d["engine_queue_depth"].Delta);
        Assert.Equal(3, d["lora_merged_switch_total"].Delta); // absent before counts as 0
        Assert.Null(d["lora_merged_switch_total"].Before);
    }
}
