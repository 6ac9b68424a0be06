using InferenceHost.LoadTests.Cli;
using InferenceHost.LoadTests.Metrics;
using InferenceHost.LoadTests.Report;
using InferenceHost.LoadTests.Runner;
using InferenceHost.LoadTests.Server;

namespace InferenceHost.LoadTests.Scenarios;

/// <summary>
/// The <c>scenarios</c> command: runs a scenario file's runs in sequence. With start-server, the server is
/// restarted whenever its command line changes (e.g. another Lora:Mode) and kept between runs otherwise.
/// Writes results.json (all summaries), report.md (one row per run) and the figures; partial results are
/// written even when a run fails.
/// </summary>
public static class ScenarioRunner
{
    public static async Task<IReadOnlyList<RunSummary>> RunAsync(ScenarioFile scenario, OptionBag overrides, string outDir,
        bool dryRun, TextWriter log, CancellationToken ct)
    {
        var runs = scenario.Runs.Select(bag =>
        {
            OptionBag merged = bag.With(overrides);
            RunOptions run = RunOptions.Parse(merged) with { OutDir = outDir };
            merged.ThrowOnUnknown($"scenario run '{run.Name}'");
            return run;
        }).ToList();
        if (dryRun)
        {
            foreach (RunOptions r in runs)
                log.WriteLine($"{r.Name}: mode {r.LoraMode}, {r.Adapters} adapters, {r.Popularity}, {r.AdapterKind}, {r.Mode} loop, {r.Requests} requests / {r.DurationSeconds} s");
            log.WriteLine($"{runs.Count} runs (dry run: nothing sent)");
            return [];
        }
        Directory.CreateDirectory(outDir);
        // Preparing a model and adapters only matters for a server this tool starts.
        IEnumerable<string> prepares = runs.Any(r => r.StartServer) ? scenario.Prepare : [];
        foreach (string prepare in prepares.Concat(runs.SelectMany(r => r.PrepareCommands).Distinct()))
            await ServerProcess.RunPrepareAsync(prepare, log, TimeSpan.FromMinutes(30), ct);

        var outcomes = new List<RunOutcome>();
        ServerProcess? server = null;
        string? serverKey = null;
        try
        {
            foreach (RunOptions run in runs)
            {
                Uri target;
                if (run.StartServer)
                {
                    string key = CommandLine.Expand(run.ServerCommand, run, 0);
                    if (key != serverKey)
                    {
                        if (server is not null)
                            await server.DisposeAsync();
                        server = null;
                        serverKey = key;
                        server = await ServerProcess.StartAsync(run, Path.Combine(outDir, "server.log"), log, ct);
                    }
                    target = server!.BaseUrl;
                }
                else
                {
                    target = run.Url!;
                }
                outcomes.Add(await RunCommand.ExecuteAsync(run, target, log, ct));
            }
        }
        finally
        {
            if (server is not null)
                await server.DisposeAsync();
            if (outcomes.Count > 0)
                WriteOutputs(scenario.Name, outDir, runs[0].Plots, outcomes, log);
        }
        return outcomes.Select(o => o.Summary).ToList();
    }

    public static void WriteOutputs(string title, string outDir, bool plots, IReadOnlyList<RunOutcome> outcomes, TextWriter log)
    {
        var summaries = outcomes.Select(o => o.Summary).ToList();
        string json = JsonReport.Write(Path.Combine(outDir, "results.json"), summaries, null);
        Directory.CreateDirectory(Path.Combine(outDir, "runs"));
        foreach (RunOutcome o in outcomes) // every attempt of each run, for later analysis
            JsonReport.Write(Path.Combine(outDir, "runs", $"{o.Summary.Name}.json"), [o.Summary], o.Attempts);
        var images = new List<string>();
        if (plots)
        {
            List<(string, IReadOnlyList<double>)> Series(Func<RequestResult, double?> pick) => outcomes
                .Select(o => (o.Summary.Name, (IReadOnlyList<double>)o.Attempts.Where(a => a.Ok).Select(pick)
                    .Where(v => v is not null).Select(v => v!.Value).ToList()))
                .ToList();
            images.Add(Plots.LatencyCdf(Path.Combine(outDir, "ttft-cdf.png"), "TTFT CDF", Series(r => r.TtftMs)));
            images.Add(Plots.LatencyCdf(Path.Combine(outDir, "tpot-cdf.png"), "TPOT CDF", Series(r => r.TpotMs)));
            images.Add(Plots.LatencyCdf(Path.Combine(outDir, "e2e-cdf.png"), "End-to-end latency CDF", Series(r => r.E2eMs)));
            var sweep = summaries.GroupBy(s => $"{s.LoraMode} {s.Popularity} {s.AdapterKind} {s.Traffic}")
                .Where(g => g.Select(s => s.Adapters).Distinct().Count() > 1)
                .Select(g => (g.Key, (IReadOnlyList<(double, double)>)g.Select(s => ((double)s.Adapters, s.OutputTokenThroughput)).ToList()))
                .ToList();
            if (sweep.Count > 0)
                images.Add(Plots.ThroughputVsAdapters(Path.Combine(outDir, "throughput-vs-adapters.png"), "output tokens/s", sweep));
        }
        var names = images.Select(Path.GetFileName).OfType<string>().ToList();
        string md = Path.Combine(outDir, "report.md");
        File.WriteAllText(md, MarkdownReport.ScenarioReport(title, summaries, names));
        log.WriteLine($"wrote {json}, {md}{(names.Count > 0 ? ", " + string.Join(", ", names) : "")}");
    }
}
