using System.CommandLine;
using InferenceHost.LoadTests.Runner;
using InferenceHost.LoadTests.Scenarios;

namespace InferenceHost.LoadTests.Cli;

/// <summary>
/// The command line, parsed by System.CommandLine (with generated help): <c>run</c> and <c>scenarios</c>. Every run
/// option is declared here once, with its help; the values given become an <see cref="OptionBag"/>, the same
/// form scenario files take, and <see cref="RunOptions.Parse"/> reads both.
/// </summary>
public static class LoadToolCli
{
    // Name, help. Values stay strings here: RunOptions.Parse types and range-checks them for the command line
    // and for scenario files alike, with one message per option.
    private static readonly (string Name, string Help)[] RunOptionSpecs =
    [
        ("url", "The server to load (loopback only), e.g. http://127.0.0.1:8000."),
        ("server-cmd", "Command that starts the server with --start-server; placeholders {model} {adapters} {mode} {port}."),
        ("model-dir", "Model directory for the started server (default .models/tinyllama-synth)."),
        ("adapters-dir", "Adapter directory for the started server (default .models/adapters)."),
        ("lora-mode", "Lora:Mode of the started server: unmerged, merged or auto (default auto)."),
        ("port", "Port of the started server (0 = a free one)."),
        ("ready-timeout", "Seconds to wait for the started server's readiness (default 120)."),
        ("prepare-cmd", "Commands to run first, separated by ';;' (e.g. synth-checkpoint)."),
        ("name", "Name of the run in reports."),
        ("mode", "closed (fixed concurrency) or open (arrivals at --request-rate)."),
        ("concurrency", "Clients of a closed loop (default 8)."),
        ("request-rate", "Open loop: requests per second, or inf."),
        ("burstiness", "Open loop: gamma shape of the gaps (1 = Poisson, < 1 burstier)."),
        ("max-concurrency", "Open loop: cap on requests in flight (0 = none)."),
        ("requests", "Requests to send at most (default 200)."),
        ("duration", "Seconds after which no request is issued (default 60)."),
        ("warmup", "Requests sent and discarded before measuring."),
        ("seed", "Seed of the traffic (prompts, lengths, adapters)."),
        ("adapters", "Number of LoRA adapters the traffic spreads over."),
        ("adapter-names", "Adapter names, comma-separated (instead of PREFIX0..N-1)."),
        ("adapter-prefix", "Adapter name prefix (default adapter-)."),
        ("popularity", "single, uniform, skewed (Zipf) or distinct."),
        ("zipf-exponent", "Skewed popularity's exponent."),
        ("base-fraction", "Share of requests for the base model."),
        ("base-model", "Model name of the base (default base)."),
        ("adapter-kind", "lora, soft or lora-soft."),
        ("soft-prompts", "Number of soft prompts."),
        ("soft-names", "Soft-prompt names, comma-separated."),
        ("soft-prefix", "Soft-prompt name prefix (default soft-)."),
        ("prompts", "random or dialogsum."),
        ("prompt-len", "Prompt length in words: N or MIN-MAX."),
        ("output-len", "Output tokens: N or MIN-MAX."),
        ("dataset", "JSONL file of dialogues for --prompts dialogsum."),
        ("max-prompt-chars", "Longest prompt taken from the data set."),
        ("ignore-eos", "true or false (default true: every request makes its full output)."),
        ("slo-ttft-ms", "Goodput SLO on time to first token."),
        ("slo-tpot-ms", "Goodput SLO on time per output token."),
        ("slo-e2e-ms", "Goodput SLO on end-to-end latency."),
        ("max-retries", "With --honor-retry-after: retries per request."),
        ("max-retry-wait", "With --honor-retry-after: longest wait in seconds."),
        ("request-timeout", "Seconds a request may take."),
        ("drain-timeout", "Seconds requests in flight get after --duration."),
        ("out", "Output directory for the reports (default results)."),
        ("plots", "true or false: PNG plots."),
        ("scrape-metrics", "true or false: scrape /metrics before and after."),
        ("metrics-filter", "Metric name fragments to keep from the scrape, comma-separated."),
    ];

    private static readonly (string Name, string Help)[] FlagSpecs =
    [
        ("start-server", "Start (and stop) the server; see --server-cmd."),
        ("honor-retry-after", "Retry a 429 after its Retry-After."),
    ];

    /// <summary>Parses and runs; exit codes: 0 done, 1 the run failed, 2 bad options.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var root = new RootCommand("InferenceHost.LoadTests: streaming load generator for the OpenAI-compatible server (loopback only).")
        {
            RunCommand(stdout),
            ScenariosCommand(stdout),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 || args.Length == 0)
        {
            foreach (var e in parse.Errors)
            {
                await stderr.WriteLineAsync($"error: {e.Message}");
            }

            if (args.Length == 0)
            {
                await stderr.WriteLineAsync("error: give a command: run or scenarios (--help for all options)");
            }

            return 2;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false }, ct);
    }

    /// <summary>The run options as a bag, from a command line (tests and scenario overrides use it).</summary>
    public static OptionBag ParseRunOptions(IReadOnlyList<string> args)
    {
        var command = RunCommand(TextWriter.Null);
        var parse = command.Parse(args.ToArray());
        return parse.Errors.Count > 0 ? throw new OptionException(parse.Errors[0].Message) : Bag(parse, command.Options);
    }

    private static Command RunCommand(TextWriter stdout)
    {
        var command = new Command("run", "One run against a server (--url) or a server it starts (--start-server).");
        AddRunOptions(command);
        command.SetAction(async (p, ct) =>
        {
            await Runner.RunCommand.RunAsync(RunOptions.Parse(Bag(p, command.Options)), stdout, ct);
            return 0;
        });
        return command;
    }

    private static Command ScenariosCommand(TextWriter stdout)
    {
        var file = new Option<string>("--file") { Description = "The scenario file (JSON).", Required = true };
        var outDir = new Option<string>("--out") { Description = "Output directory (default results).", DefaultValueFactory = _ => "results" };
        var dryRun = new Option<bool>("--dry-run") { Description = "List the runs without running them." };
        var command = new Command("scenarios", "The runs of a scenario file in sequence, one combined table; run options given here override every run (e.g. --url or --duration).")
        {
            file, outDir, dryRun,
        };
        var overridable = AddRunOptions(command);
        command.SetAction(async (p, ct) =>
        {
            var overrides = Bag(p, overridable);
            if (overrides.Has("url") && !overrides.Has("start-server"))
            {
                overrides = overrides.With(new OptionBag([new("start-server", "false")])); // --url replaces the file's server
            }

            await ScenarioRunner.RunAsync(ScenarioFile.Load(p.GetValue(file)!), overrides, p.GetValue(outDir)!, p.GetValue(dryRun), stdout, ct);
            return 0;
        });
        return command;
    }

    private static List<Option> AddRunOptions(Command command)
    {
        var added = new List<Option>();
        foreach (var (name, help) in RunOptionSpecs)
        {
            added.Add(new Option<string>("--" + name) { Description = help });
        }

        foreach (var (name, help) in FlagSpecs)
        {
            added.Add(new Option<bool>("--" + name) { Description = help });
        }

        added.ForEach(command.Options.Add);
        return added;
    }

    /// <summary>The options given on the command line (not defaulted), by name without dashes.</summary>
    private static OptionBag Bag(ParseResult p, IEnumerable<Option> options) =>
        new(options.Where(o => p.GetResult(o) is { Implicit: false }).Select(o => KeyValuePair.Create(o.Name.TrimStart('-'), o switch
        {
            Option<bool> flag => p.GetValue(flag) ? "true" : "false",
            Option<string> text => p.GetValue(text) ?? string.Empty,
            _ => throw new InvalidOperationException($"option {o.Name} has no bag form"),
        })));
}
