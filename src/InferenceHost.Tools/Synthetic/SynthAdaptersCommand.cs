using InferenceHost.CommandLine;
using InferenceHost.Adapters.Peft;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Tools;

/// <summary>
/// <c>synth-adapters --model DIR --out DIR [--count N] [--rank R] [--alpha A] [--targets q_proj,v_proj|all-linear]
/// [--soft-prompts K] [--virtual-tokens N] [--seed S] [--prefix adapter-]</c>: seeded random PEFT adapters for a
/// base checkpoint (LoRAs <c>{prefix}0..N-1</c>, soft prompts <c>soft-0..K-1</c>), for benchmarks and load tests.
/// B is non-zero so every adapter really changes the output.
/// </summary>
public static class SynthAdaptersCommand
{
    public static int Run(CliArgs args, TextWriter stdout)
    {
        var modelDir = args.Require("model");
        var output = args.Require("out");
        var count = args.Int("count", 4);
        var rank = args.Int("rank", 16);
        var alpha = args.Double("alpha", 2.0 * rank);
        var targets = ParseTargets(args.Get("targets") ?? "q_proj,k_proj,v_proj,o_proj");
        var softPrompts = args.Int("soft-prompts", 0);
        var virtualTokens = args.Int("virtual-tokens", 8);
        var seed = (ulong)(args.Long("seed") ?? 0);
        var prefix = args.Get("prefix") ?? "adapter-";
        if (count < 0 || rank < 1 || softPrompts < 0 || virtualTokens < 1)
        {
            throw new CliException("--count and --soft-prompts must be ≥ 0, --rank and --virtual-tokens ≥ 1");
        }

        var config = LlamaConfig.Load(Path.Combine(modelDir, "config.json"));
        var baseName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDir)));
        using var generator = new Generator(seed, CPU);
        for (var i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            var modules = new Dictionary<LinearSite, (Tensor, Tensor)>();
            for (var layer = 0; layer < config.NumHiddenLayers; layer++)
            {
                foreach (var kind in targets)
                {
                    var (inF, outF) = config.LinearShape(kind);
                    // A like PEFT's Kaiming-uniform init; B small but non-zero (PEFT starts B at zero).
                    var a = (rand(rank, inF, generator: generator) * 2 - 1) * Math.Sqrt(1.0 / inF);
                    var b = randn(outF, rank, generator: generator) * 0.02;
                    modules[new LinearSite(layer, kind)] = (a, b);
                }
            }

            PeftAdapterWriter.WriteLora(Path.Combine(output, $"{prefix}{i}"), baseName, new LoraFileSettings(rank, alpha, targets), modules);
        }

        for (var i = 0; i < softPrompts; i++)
        {
            using var scope = NewDisposeScope();
            PeftAdapterWriter.WriteSoftPrompt(Path.Combine(output, $"soft-{i}"), baseName, randn(virtualTokens, config.HiddenSize, generator: generator) * 0.02, config);
        }

        stdout.WriteLine($"wrote {count} LoRA adapter(s) (rank {rank}, {string.Join(",", targets.Select(LinearSite.ShortName))}) and {softPrompts} soft prompt(s) to {output}");
        return 0;
    }

    internal static IReadOnlyList<LinearKind> ParseTargets(string text) =>
        text == "all-linear"
            ? LinearSite.AllKinds
            : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(t => LinearSite.ParseShortName(t) ?? throw new CliException($"--targets: '{t}' is not one of {string.Join(", ", LinearSite.AllKinds.Select(LinearSite.ShortName))} or all-linear"))
                .ToArray();
}
