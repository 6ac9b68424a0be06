using System.Text.Json;
using InferenceHost.Adapters;
using InferenceHost.CommandLine;
using InferenceHost.Engine;
using InferenceHost.Engine.Sampling;
using InferenceHost.Model;

namespace InferenceHost.Tools.Checks;

/// <summary>
/// <c>conformance --fixtures DIR [--fixture NAME] [--device cpu|cuda] [--dtype float32] [--modes unmerged,merged,auto]
/// [--tolerance 1e-3] [--report-only] [--out FILE]</c>: every case of <c>goldens.json</c> through the engine (what the
/// <c>generate</c> verb and the server run), one request at a time and then all at once (mixed batches of base and
/// adapter rows), in each LoRA mode. With <c>--url URL --fixture NAME</c> the same cases go to a running server's
/// <c>/v1/completions</c> instead (tokens only: the API returns no raw logits). Prints (and writes) a JSON report;
/// exit code 1 when a case fails, unless <c>--report-only</c> (for dtypes the goldens do not bound, e.g. bfloat16).
/// </summary>
public static class ConformanceCommand
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static int Run(CliArgs args, TextWriter stdout)
    {
        var fixtures = args.Require("fixtures");
        var only = args.Get("fixture");
        var url = args.Get("url");
        var tolerance = args.Double("tolerance", GoldenFile.LogitTolerance);
        var reportOnly = args.Flag("report-only");
        var outFile = args.Get("out");
        var modes = args.List("modes", "unmerged,merged,auto").Select(ParseMode).ToArray();
        var deviceName = args.Get("device") ?? "cpu";
        var dtypeName = args.Get("dtype") ?? "float32";

        var goldens = GoldenFile.Load(fixtures);
        var selected = goldens.Fixtures.Where(f => only is null || f.Model == only).ToList();
        if (selected.Count == 0)
        {
            throw new CliException($"--fixture: '{only}' is not in goldens.json ({string.Join(", ", goldens.Fixtures.Select(f => f.Model))})");
        }

        List<RunReport> runs;
        object target;
        if (url is not null)
        {
            if (only is null)
            {
                throw new CliException("--url needs --fixture NAME (the fixture the server was started with)");
            }

            (runs, var engineStatus) = HttpConformance.RunAsync(new Uri(url), selected[0]).GetAwaiter().GetResult();
            target = new { kind = "http", url, engine = engineStatus };
        }
        else
        {
            var device = DeviceOption.Parse(deviceName);
            var dtype = DTypes.Parse(dtypeName);
            runs = selected.SelectMany(f => RunEngine(fixtures, f, device, dtype, modes, tolerance)).ToList();
            target = new { kind = "engine", device = deviceName, dtype = dtypeName };
        }

        var passed = runs.All(r => r.Passed == r.Cases);
        var report = new { verb = "conformance", target, tolerance, passed, runs };
        var text = JsonSerializer.Serialize(report, Json);
        stdout.WriteLine(text);
        if (outFile is not null)
        {
            File.WriteAllText(outFile, text);
        }

        return passed || reportOnly ? 0 : 1;
    }

    private static LoraMode ParseMode(string m) => Enum.TryParse<LoraMode>(m, ignoreCase: true, out var mode)
        ? mode : throw new CliException($"--modes: '{m}' is not unmerged, merged or auto");

    private static IEnumerable<RunReport> RunEngine(string fixturesDir, GoldenModel f, TorchSharp.torch.Device device, TorchSharp.torch.ScalarType dtype, IReadOnlyList<LoraMode> modes, double tolerance)
    {
        using var model = ModelLoader.Load(Path.Combine(fixturesDir, f.Model), new ModelLoadOptions { DType = dtype, Device = device });
        var reports = new List<RunReport>();
        foreach (var mode in modes)
        {
            var options = new EngineOptions { Mode = mode, MaxBatchSize = 32, Auto = new AutoModePolicy { MinSamples = 4, MinDwell = TimeSpan.Zero } };
            using var registry = new AdapterRegistry(model.Config, model.Name, capacity: 16, maxRank: options.MaxLoraRank);
            var adapters = Path.Combine(fixturesDir, f.Model, "adapters");
            var errors = Directory.Exists(adapters) ? registry.Discover(adapters) : [];
            if (errors.Count > 0)
            {
                throw new AdapterException(f.Model, adapters, string.Join("; ", errors.Select(e => e.Message)));
            }

            using var engine = new InferenceEngine(model, options, registry);
            var alone = new List<CaseOutcome>();
            foreach (var c in f.Cases)
            {
                alone.Add(Check(c, () => engine.Submit(Request(f, c)).Completion).GetAwaiter().GetResult());
            }

            var batch = Task.WhenAll(f.Cases.Select(c => Check(c, () => engine.Submit(Request(f, c)).Completion))).GetAwaiter().GetResult();
            var label = mode.ToString().ToLowerInvariant();
            reports.Add(RunReport.Of(f.Model, label, "alone", alone, tolerance));
            reports.Add(RunReport.Of(f.Model, label, "mixed-batch", batch, tolerance));
        }

        return reports;
    }

    private static GenerationRequest Request(GoldenModel f, GoldenExpectation c) => new()
    {
        PromptIds = f.Prompts[c.Prompt].Ids,
        Sampling = new SamplingParams { Temperature = 0, MaxTokens = f.GreedyTokens, IgnoreEos = true },
        Adapters = c.Adapter is null ? [] : [new AdapterRequest(c.Adapter)],
        RecordFirstStepTopLogits = true,
    };

    private static async Task<CaseOutcome> Check(GoldenExpectation c, Func<Task<GenerationResult>> run)
    {
        try
        {
            var r = await run();
            var error = r.FirstStepTopLogits is null ? "no first-step logits" : null;
            return new CaseOutcome(c.Label, c.Greedy.SequenceEqual(r.TokenIds), r.FirstStepTopLogits is { } top ? c.Top5Error(top) : null, error);
        }
        catch (Exception e) when (e is AdapterException or UnknownAdapterException or ArgumentException or InvalidOperationException or System.Runtime.InteropServices.ExternalException)
        {
            return new CaseOutcome(c.Label, false, null, e.Message);
        }
    }
}

/// <summary>One fixture × mode × (alone | mixed batch): counts, the worst top-5 logit error, and every failing case.</summary>
public sealed record RunReport(string Fixture, string Mode, string Kind, int Cases, int Passed, int TokensMatch, double? MaxTop5Error, IReadOnlyList<CaseOutcome> Failures)
{
    public static RunReport Of(string fixture, string mode, string kind, IReadOnlyList<CaseOutcome> outcomes, double tolerance)
    {
        var errors = outcomes.Where(o => o.Top5Error is not null).Select(o => o.Top5Error!.Value).ToList();
        return new RunReport(fixture, mode, kind, outcomes.Count, outcomes.Count(o => o.Passed(tolerance)), outcomes.Count(o => o.TokensMatch),
            errors.Count > 0 ? errors.Max() : null, outcomes.Where(o => !o.Passed(tolerance)).ToList());
    }
}
