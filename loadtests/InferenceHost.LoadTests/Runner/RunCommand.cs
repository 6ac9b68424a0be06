using InferenceHost.LoadTests.Cli;
using InferenceHost.LoadTests.Metrics;
using InferenceHost.LoadTests.Report;
using InferenceHost.LoadTests.Server;

namespace InferenceHost.LoadTests.Runner;

/// <summary>The <c>run</c> command: one run against --url or a server it starts, then results.json, report.md and CDF PNGs.</summary>
public static class RunCommand
{
    public static HttpClient CreateHttpClient()
        => new(new SocketsHttpHandler
        {
            UseProxy = false, // loopback only: never hand requests to a proxy
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        })
        { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>Sends the traffic of one run to an already-running server.</summary>
    public static async Task<RunOutcome> ExecuteAsync(RunOptions o, Uri baseUrl, TextWriter log, CancellationToken ct)
    {
        LoopbackGuard.Validate(baseUrl.ToString());
        using HttpClient http = CreateHttpClient();
        return await new LoadRunner(http, baseUrl, o, log).RunAsync(ct);
    }

    public static async Task<RunOutcome> RunAsync(RunOptions o, TextWriter log, CancellationToken ct)
    {
        Directory.CreateDirectory(o.OutDir);
        foreach (string prepare in o.PrepareCommands)
            await ServerProcess.RunPrepareAsync(prepare, log, TimeSpan.FromMinutes(30), ct);
        RunOutcome outcome;
        if (o.StartServer)
        {
            await using ServerProcess server = await ServerProcess.StartAsync(o, Path.Combine(o.OutDir, "server.log"), log, ct);
            outcome = await ExecuteAsync(o, server.BaseUrl, log, ct);
        }
        else
        {
            outcome = await ExecuteAsync(o, o.Url!, log, ct);
        }
        WriteOutputs(o, outcome, log);
        return outcome;
    }

    public static void WriteOutputs(RunOptions o, RunOutcome outcome, TextWriter log)
    {
        Directory.CreateDirectory(o.OutDir);
        string json = JsonReport.Write(Path.Combine(o.OutDir, "results.json"), [outcome.Summary], outcome.Attempts);
        IReadOnlyList<string> images = o.Plots ? Plots.RunCdfs(o.OutDir, "", outcome.Attempts) : [];
        string md = Path.Combine(o.OutDir, "report.md");
        File.WriteAllText(md, MarkdownReport.RunReport(outcome.Summary, images));
        log.WriteLine($"wrote {json}, {md}{(images.Count > 0 ? ", " + string.Join(", ", images) : "")}");
    }
}
