using System.Text.Json;
using InferenceHost.LoadTests.Metrics;
using InferenceHost.LoadTests.Report;

namespace InferenceHost.LoadTests.Tests;

/// <summary>End-to-end: the tool's command line against the in-process fake server; a few seconds in all.</summary>
public sealed class SmokeTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "loadtests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        // LOADTESTS_KEEP_OUTPUT=1 keeps the reports and figures for a look.
        if (Directory.Exists(_out) && Environment.GetEnvironmentVariable("LOADTESTS_KEEP_OUTPUT") != "1")
            Directory.Delete(_out, recursive: true);
    }

    private static async Task<(int Rc, string Stdout, string Stderr)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int rc = await Program.RunAsync(args, stdout, stderr, cts.Token);
        return (rc, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Closed_loop_run_counts_429s_and_writes_json_markdown_and_pngs()
    {
        await using var server = await FakeOpenAiServer.StartAsync(concurrencyCap: 3, tokenDelayMs: 3);
        var (rc, stdout, stderr) = await Run("run", "--url", server.BaseUrl.ToString(), "--mode", "closed", "--concurrency", "6",
            "--requests", "40", "--duration", "20", "--adapters", "4", "--popularity", "skewed", "--prompt-len", "8",
            "--output-len", "8", "--warmup", "2", "--slo-ttft-ms", "10000", "--slo-tpot-ms", "10000", "--out", _out);
        Assert.True(rc == 0, stdout + stderr);

        RunSummary s = JsonReport.Read(Path.Combine(_out, "results.json")).Runs.Single();
        Assert.Equal(40, s.RequestsSent);
        Assert.Equal(40, s.Completed + s.Failed);
        Assert.True(s.RateLimited > 0, "six workers against a cap of three must see 429s");
        Assert.Equal(s.RateLimited, s.ErrorsByOutcome["429"]);
        Assert.Equal(s.Failed, s.RateLimited); // no retries: every 429 is a failed request, nothing else fails
        Assert.True(server.Rejected >= s.RateLimited); // the warm-up's 429s reach the server, not the report
        Assert.Equal(s.Completed * 8L, s.OutputTokens); // from the usage chunk
        Assert.Equal(s.Completed, s.Ttft.Count);
        Assert.Equal(s.Completed * 7L, s.Itl.Count);
        Assert.True(s.Tpot.P50 > 0 && s.E2e.P99 >= s.E2e.P50 && s.E2e.Max >= s.E2e.P99);
        Assert.Equal(s.Completed, s.GoodRequests); // generous SLOs
        Assert.True(s.RequestThroughput > 0 && s.OutputTokenThroughput > 0);
        Assert.Contains(s.ServerMetrics, m => m.Series == "lora_batch_size_max");
        Assert.Contains(s.ServerMetrics, m => m.Series == "engine_queue_depth");
        Assert.DoesNotContain(s.ServerMetrics, m => m.Series.StartsWith("fake_requests_total", StringComparison.Ordinal));

        string md = File.ReadAllText(Path.Combine(_out, "report.md"));
        Assert.Contains($"{s.RateLimited} answered 429", md);
        Assert.Contains("| TTFT |", md);
        Assert.Contains("lora_merged_switch_total", md);
        foreach (string png in new[] { "ttft-cdf.png", "tpot-cdf.png", "e2e-cdf.png" })
        {
            Assert.Contains($"]({png})", md);
            byte[] head = File.ReadAllBytes(Path.Combine(_out, png))[..8];
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, head);
        }

        // Every request was a proper streaming request for one of the adapters.
        foreach (JsonElement body in server.Bodies)
        {
            Assert.True(body.GetProperty("stream").GetBoolean());
            Assert.True(body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
            Assert.True(body.GetProperty("ignore_eos").GetBoolean());
            Assert.Equal(0, body.GetProperty("temperature").GetDouble());
            Assert.Matches("^adapter-[0-3]$", body.GetProperty("model").GetString());
        }
    }

    [Fact]
    public async Task Honouring_retry_after_retries_the_same_request()
    {
        await using var server = await FakeOpenAiServer.StartAsync(concurrencyCap: 1, tokenDelayMs: 3);
        var (rc, stdout, stderr) = await Run("run", "--url", server.BaseUrl.ToString(), "--concurrency", "3", "--requests", "9",
            "--output-len", "4", "--prompt-len", "4", "--honor-retry-after", "--max-retries", "100", "--max-retry-wait", "0.02",
            "--plots", "false", "--out", _out);
        Assert.True(rc == 0, stdout + stderr);
        RunSummary s = JsonReport.Read(Path.Combine(_out, "results.json")).Runs.Single();
        Assert.Equal(9, s.RequestsSent);
        Assert.True(s.RateLimited > 0);
        Assert.Equal(s.RequestsSent + s.RateLimited - s.Failed, s.Attempts);
        Assert.Equal(9, s.Completed); // Retry-After 1 s, capped at 20 ms, until the request gets through
        Assert.False(File.Exists(Path.Combine(_out, "ttft-cdf.png")));
    }

    [Fact]
    public async Task Open_loop_with_base_mix_and_lora_soft_combinations()
    {
        await using var server = await FakeOpenAiServer.StartAsync(concurrencyCap: 100, tokenDelayMs: 1);
        var (rc, stdout, stderr) = await Run("run", "--url", server.BaseUrl.ToString(), "--mode", "open", "--request-rate", "200",
            "--burstiness", "0.5", "--requests", "30", "--duration", "10", "--adapters", "3", "--adapter-prefix", "lora-",
            "--adapter-kind", "lora-soft", "--soft-prompts", "2", "--base-fraction", "0.3", "--base-model", "tiny",
            "--output-len", "2-5", "--plots", "false", "--out", _out);
        Assert.True(rc == 0, stdout + stderr);
        RunSummary s = JsonReport.Read(Path.Combine(_out, "results.json")).Runs.Single();
        Assert.Equal(30, s.Completed);
        Assert.Equal(0, s.RateLimited);
        var bodies = server.Bodies.ToList();
        Assert.All(bodies, b => Assert.Equal("tiny", b.GetProperty("model").GetString()));
        var combos = bodies.Where(b => b.TryGetProperty("adapters", out _)).ToList();
        Assert.InRange(combos.Count, 1, 29); // some base-model requests, some combinations
        foreach (JsonElement b in combos)
        {
            JsonElement[] a = b.GetProperty("adapters").EnumerateArray().ToArray();
            Assert.StartsWith("lora-", a[0].GetProperty("name").GetString());
            Assert.Equal(1.0, a[0].GetProperty("weight").GetDouble());
            Assert.StartsWith("soft-", a[1].GetProperty("name").GetString());
            Assert.False(a[1].TryGetProperty("weight", out _));
        }
    }

    [Fact]
    public async Task Smoke_scenario_against_a_url_writes_a_combined_table_and_sweep_plot()
    {
        await using var server = await FakeOpenAiServer.StartAsync(concurrencyCap: 100, tokenDelayMs: 1);
        string file = Path.Combine(OptionTests.RepoRoot(), "loadtests", "scenarios", "smoke.json");
        var (rc, stdout, stderr) = await Run("scenarios", "--file", file, "--url", server.BaseUrl.ToString(),
            "--duration", "5", "--request-rate", "50", "--out", _out);
        Assert.True(rc == 0, stdout + stderr);
        Assert.DoesNotContain("prepare:", stdout); // nothing to prepare for a server given by URL
        var runs = JsonReport.Read(Path.Combine(_out, "results.json")).Runs;
        Assert.Equal(["smoke-unmerged", "smoke-merged", "smoke-open"], runs.Select(r => r.Name).ToArray());
        string md = File.ReadAllText(Path.Combine(_out, "report.md"));
        Assert.Equal(3, md.Split('\n').Count(l => l.StartsWith("| smoke", StringComparison.Ordinal)));
        Assert.True(File.Exists(Path.Combine(_out, "e2e-cdf.png")));
        Assert.Equal(12, JsonReport.Read(Path.Combine(_out, "runs", "smoke-open.json")).Requests!.Count);
    }

    [Fact]
    public async Task Start_server_that_never_gets_ready_times_out_and_is_stopped()
    {
        var (rc, _, stderr) = await Run("run", "--start-server", "--server-cmd", "sleep 30", "--ready-timeout", "1",
            "--requests", "1", "--out", _out);
        Assert.Equal(1, rc);
        Assert.Contains("health/ready did not answer 200 within 1 s", stderr);
    }
}

public sealed class SweepTests
{
    [Fact]
    public async Task Adapter_sweep_draws_throughput_vs_adapters()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loadtests-sweep-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await FakeOpenAiServer.StartAsync(concurrencyCap: 100, tokenDelayMs: 1);
            string file = Path.Combine(dir, "sweep.json");
            Directory.CreateDirectory(dir);
            File.WriteAllText(file, $$"""
                {"name": "sweep", "defaults": {"url": "{{server.BaseUrl}}", "requests": 4, "concurrency": 2, "output-len": 3, "prompt-len": 2},
                 "runs": [{"name": "s", "matrix": {"popularity": ["uniform", "distinct"], "adapters": [1, 2, 4]} }]}
                """);
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int rc = await Program.RunAsync(["scenarios", "--file", file, "--out", Path.Combine(dir, "out")], stdout, stderr, default);
            Assert.True(rc == 0, stdout + "\n" + stderr);
            string md = File.ReadAllText(Path.Combine(dir, "out", "report.md"));
            Assert.Contains("| s-distinct-n4 |", md);
            Assert.Contains("](throughput-vs-adapters.png)", md);
            Assert.True(new FileInfo(Path.Combine(dir, "out", "throughput-vs-adapters.png")).Length > 1000);
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("LOADTESTS_KEEP_OUTPUT") != "1")
                Directory.Delete(dir, recursive: true);
        }
    }
}
