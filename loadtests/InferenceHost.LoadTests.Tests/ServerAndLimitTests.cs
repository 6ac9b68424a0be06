using System.Net.Sockets;
using InferenceHost.LoadTests.Metrics;
using InferenceHost.LoadTests.Report;

namespace InferenceHost.LoadTests.Tests;

/// <summary>Runs stop by themselves; --start-server starts, waits for /health/ready, restarts per mode and stops.</summary>
public sealed class ServerAndLimitTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "loadtests-srv-" + Guid.NewGuid().ToString("N"));

    public ServerAndLimitTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int Rc, string Out)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int rc = await Program.RunAsync(args, stdout, stderr, cts.Token);
        return (rc, stdout + "\n" + stderr);
    }

    [Fact]
    public async Task Duration_bounds_the_run_and_slow_requests_are_cancelled_after_the_drain()
    {
        // Each request would stream 20 tokens 300 ms apart (6 s); the run must end near 0.5 s + 0.5 s drain.
        await using var server = await FakeOpenAiServer.StartAsync(concurrencyCap: 100, tokenDelayMs: 300);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (rc, output) = await Run("run", "--url", server.BaseUrl.ToString(), "--concurrency", "3", "--requests", "1000000",
            "--duration", "0.5", "--drain-timeout", "0.5", "--output-len", "20", "--plots", "false", "--out", _dir);
        Assert.True(rc == 0, output);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.5, 5);
        RunSummary s = JsonReport.Read(Path.Combine(_dir, "results.json")).Runs.Single();
        Assert.Equal(3, s.RequestsSent); // three workers, none finished before the deadline, so no second request
        Assert.Equal(3, s.ErrorsByOutcome["cancelled"]);
        Assert.Equal(0, s.Completed);
    }

    private static bool HavePython() => Environment.GetEnvironmentVariable("PATH")?.Split(':')
        .Any(p => File.Exists(Path.Combine(p, "python3"))) == true;

    /// <summary>python3's static file server stands in for the real one: /health/ready is a file, completions get 501.</summary>
    private string PythonServerCommand()
    {
        string root = Path.Combine(_dir, "www");
        Directory.CreateDirectory(Path.Combine(root, "health"));
        File.WriteAllText(Path.Combine(root, "health", "ready"), "ok");
        return $"bash -c 'exec python3 -m http.server \"$0\" --bind 127.0.0.1 --directory {root}' {{port}} {{mode}}";
    }

    [Fact]
    public async Task Start_server_waits_for_ready_runs_and_stops_the_process()
    {
        if (!HavePython())
            return;
        var (rc, output) = await Run("run", "--start-server", "--server-cmd", PythonServerCommand(), "--ready-timeout", "20",
            "--requests", "3", "--concurrency", "1", "--plots", "false", "--out", _dir);
        Assert.True(rc == 0, output);
        RunSummary s = JsonReport.Read(Path.Combine(_dir, "results.json")).Runs.Single();
        Assert.Equal(3, s.ErrorsByOutcome["501"]); // it was up and answered, just not with completions
        var port = new Uri(s.Target).Port;
        using var client = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => client.ConnectAsync("127.0.0.1", port)); // stopped
        Assert.True(File.Exists(Path.Combine(_dir, "server.log")));
    }

    [Fact]
    public async Task Scenario_restarts_the_server_only_when_the_mode_changes()
    {
        if (!HavePython())
            return;
        string file = Path.Combine(_dir, "modes.json");
        File.WriteAllText(file, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["defaults"] = new Dictionary<string, object>
            {
                ["start-server"] = true, ["server-cmd"] = PythonServerCommand(), ["requests"] = 1, ["plots"] = false,
                ["scrape-metrics"] = false,
            },
            ["runs"] = new object[]
            {
                new Dictionary<string, object> { ["name"] = "m", ["matrix"] = new Dictionary<string, object> { ["lora-mode"] = new[] { "merged", "unmerged" }, ["adapters"] = new[] { 1, 2 } } },
            },
        }));
        var (rc, output) = await Run("scenarios", "--file", file, "--out", Path.Combine(_dir, "out"));
        Assert.True(rc == 0, output);
        Assert.Equal(2, output.Split('\n').Count(l => l.StartsWith("starting server:", StringComparison.Ordinal)));
        Assert.Equal(4, JsonReport.Read(Path.Combine(_dir, "out", "results.json")).Runs.Count);
    }
}
