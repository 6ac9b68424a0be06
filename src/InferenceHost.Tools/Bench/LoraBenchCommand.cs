using InferenceHost.CommandLine;
using System.Diagnostics;
using InferenceHost.Adapters;
using InferenceHost.Adapters.Peft;
using InferenceHost.Adapters.Slots;
using InferenceHost.Engine.Generation;
using InferenceHost.Model;
using InferenceHost.Model.Kernels;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Tools.Bench;

/// <summary>
/// <c>bench-lora [--shape tinyllama-1.1b | --model DIR] [--dtype float32] [--quantization none|int8|nf4] [--ranks 8,16,64] [--targets qkvo,all-linear]
/// [--batches 1,8,32] [--steps 8] [--tokenizer PATH] [--work .models/bench] [--device cpu|cuda] [--switches-only]
/// [--merge-paths kernel,libtorch] [--rounds 1]</c>: decode tokens/s for the base,
/// unmerged (every row the same adapter, and every row a different one) and merged; the time of one merged
/// switch against one read+write of the touched weights, for each merge path (the one-pass kernel, libtorch's
/// copy + <c>addmm_</c>) in alternating rounds; cold load time; device bytes per resident adapter. On a quantized
/// base (<c>--quantization</c>) only the unmerged columns exist (merged mode is refused there, docs/lora-modes.md).
/// </summary>
public static class LoraBenchCommand
{
    private const int PromptTokens = 16;

    public static int Run(CliArgs args, TextWriter stdout)
    {
        var shape = args.Get("shape") ?? "tinyllama-1.1b";
        var dtype = DTypes.Parse(args.Get("dtype") ?? "float32");
        var ranks = (args.Get("ranks") ?? "8,16,64").Split(',').Select(int.Parse).ToArray();
        var targetSets = (args.Get("targets") ?? "qkvo,all-linear").Split(',');
        var batches = (args.Get("batches") ?? "1,8,32").Split(',').Select(int.Parse).ToArray();
        var steps = args.Int("steps", 8);
        var tokenizer = args.Get("tokenizer") ?? Path.Combine("..", "shared", "fixtures", "tiny-llama", "tokenizer.model");
        var work = args.Get("work") ?? Path.Combine(".models", "bench");
        var device = Checks.DeviceOption.Parse(args.Get("device"));
        var switchesOnly = args.Flag("switches-only");
        var rounds = args.Int("rounds", 1);
        var mergePaths = (args.Get("merge-paths") ?? "kernel").Split(',').Select(m => m switch
        {
            "kernel" => true,
            "libtorch" => false,
            _ => throw new CliException($"--merge-paths: '{m}' is not kernel or libtorch"),
        }).ToArray();

        var quantization = DTypes.ParseQuantization(args.Get("quantization") ?? "none");
        var quantized = quantization != Model.Quantization.WeightQuantization.None;
        if (quantized && switchesOnly)
        {
            throw new CliException("--switches-only times merged switches, which a quantized base does not have (--quantization none)");
        }

        var bandwidth = BenchSupport.CopyBandwidth(device);
        var dir = args.Get("model") ?? BenchSupport.EnsureCheckpoint(work, shape, dtype, tokenizer, Console.Error);
        if (!Directory.Exists(dir))
        {
            throw new CliException($"--model: directory '{dir}' does not exist");
        }

        if (args.Get("model") is not null)
        {
            shape = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
        }

        var maxBatch = batches.Max();
        using var model = ModelLoader.Load(dir, new ModelLoadOptions { DType = dtype, Device = device, MaxSequenceLength = PromptTokens + steps + 8, Quantization = quantization });
        using var cache = new KvCache(model.Config, maxBatch, PromptTokens + steps + 8, dtype, model.Model.Device);
        var stepper = new BatchStepper(model.Model, cache);
        stdout.WriteLine($"{shape} {dtype.ToString().ToLowerInvariant()}{(quantized ? $", weights {Model.Quantization.WeightQuantizationNames.Name(quantization)}" : "")}, copy bandwidth {bandwidth / 1e9:F1} GB/s, {steps} timed decode steps after a {PromptTokens}-token prefill");
        stdout.WriteLine();

        if (!switchesOnly)
        {
            stdout.WriteLine("| rank | targets | batch | base tok/s | unmerged, 1 adapter | unmerged, distinct per row | merged | unmerged / base (distinct / base) | merged / base |");
            stdout.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        }

        var switches = new List<string>();
        foreach (var targets in targetSets)
        {
            var kinds = targets == "qkvo" ? [LinearKind.QProj, LinearKind.KProj, LinearKind.VProj, LinearKind.OProj] : SynthAdaptersCommand.ParseTargets(targets);
            foreach (var rank in ranks)
            {
                var slots = Math.Min(maxBatch, 8);
                var adapters = Enumerable.Range(0, slots).Select(i => RandomLora(model, $"r{rank}-{i}", rank, kinds, (ulong)i)).ToList();
                using var buffers = new LoraSlotBuffers(model.Model, slots, rank, kinds);
                for (var i = 0; i < slots; i++)
                {
                    buffers.Load(i, adapters[i]);
                }

                using var merger = quantized ? null : new WeightMerger(model.Model);
                foreach (var b in switchesOnly ? [] : batches)
                {
                    var baseline = Decode(model, stepper, b, steps, null); // measured beside the others, not once
                    var same = Decode(model, stepper, b, steps, Rows(buffers, b, _ => 0));
                    var distinct = Decode(model, stepper, b, steps, Rows(buffers, b, i => i % slots));
                    if (merger is null)
                    {
                        stdout.WriteLine($"| {rank} | {targets} | {b} | {baseline:F2} | {same:F2} | {distinct:F2} | - | {same / baseline:P0} (distinct {distinct / baseline:P0}) | - |");
                        continue;
                    }

                    merger.Merge([new LoraUse(adapters[0], 1.0)]);
                    var merged = Decode(model, stepper, b, steps, null);
                    merger.Restore();
                    stdout.WriteLine($"| {rank} | {targets} | {b} | {baseline:F2} | {same:F2} | {distinct:F2} | {merged:F2} | {same / baseline:P0} (distinct {distinct / baseline:P0}) | {merged / baseline:P0} |");
                }

                if (merger is null)
                {
                    adapters.ForEach(a => a.Dispose());
                    continue;
                }

                var touched = adapters[0].Modules.Keys.Sum(s => model.Model.Linear(s).Weight.NumberOfElements * model.Model.Linear(s).Weight.ElementSize);
                var perSwitch = new List<string>();
                for (var round = 1; round <= rounds; round++)
                {
                    // The bound, timed in the same round: restoring is one copy_ of exactly the touched matrices.
                    var copyMs = 0.0;
                    for (var i = 0; i < 5; i++)
                    {
                        merger.Merge([new LoraUse(adapters[0], 1.0)]);
                        Checks.DeviceOption.Synchronize(device);
                        var copyClock = Stopwatch.StartNew();
                        merger.Restore();
                        Checks.DeviceOption.Synchronize(device);
                        copyMs += copyClock.Elapsed.TotalMilliseconds / 5;
                    }

                    perSwitch.Add($"copy {copyMs:F0}");
                    foreach (var kernel in mergePaths)
                    {
                        MergeKernel.Enabled = kernel;
                        merger.Merge([new LoraUse(adapters[^1], 1.0)]); // warm: the pristine copies exist
                        Checks.DeviceOption.Synchronize(device);
                        var clock = Stopwatch.StartNew();
                        const int Switches = 5;
                        for (var i = 0; i < Switches; i++)
                        {
                            merger.Merge([new LoraUse(adapters[i % adapters.Count], 1.0)]);
                        }

                        Checks.DeviceOption.Synchronize(device); // the merges are queued device work
                        perSwitch.Add($"{(kernel ? "kernel" : "libtorch")} {clock.Elapsed.TotalMilliseconds / Switches:F0}");
                        merger.Restore();
                    }
                }

                MergeKernel.Enabled = true;
                var cold = ColdLoad(model, adapters[0], kinds, rank);
                var perAdapter = adapters[0].Modules.Sum(m => ((m.Value.A.NumberOfElements + m.Value.B.NumberOfElements) * model.Model.Linear(m.Key).Weight.ElementSize));
                switches.Add($"| {rank} | {targets} | {string.Join(", ", perSwitch)} | {2.0 * touched / bandwidth * 1000:F0} | {cold:F0} | {perAdapter / 1e6:F1} MB | {buffers.BytesPerSlot / 1e6:F1} MB |");
                adapters.ForEach(a => a.Dispose());
            }
        }

        if (switches.Count == 0)
        {
            return 0;
        }

        stdout.WriteLine();
        stdout.WriteLine("| rank | targets | merged switch (ms, restore + merge; per round: the touched matrices' copy, then each path) | one read+write of the touched weights at copy bandwidth (ms) | cold load from disk + slot copy (ms) | adapter in compute dtype | one slot (max rank = rank) |");
        stdout.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        switches.ForEach(stdout.WriteLine);
        return 0;
    }

    /// <summary>The rows' slots, as the engine gives them: row i on slot <paramref name="slotOf"/>(i) with weight 1.</summary>
    private static Func<ILinearDelta?> Rows(LoraSlotBuffers buffers, int batch, Func<int, int> slotOf) =>
        () => new LoraBatchDelta(buffers, Enumerable.Range(0, batch).Select(i => (IReadOnlyList<SlotWeight>)[new SlotWeight(slotOf(i), 1.0)]).ToList(), buffers.Device);

    private static double Decode(LoadedModel model, BatchStepper stepper, int batch, int steps, Func<ILinearDelta?>? delta)
    {
        var seqs = BenchSupport.Prefilled(model, stepper, batch, PromptTokens, steps + 2, delta, out _);
        var rate = BenchSupport.DecodeTokensPerSecond(stepper, seqs, steps, delta);
        seqs.ForEach(s => s.Dispose());
        return rate;
    }

    private static LoraAdapter RandomLora(LoadedModel model, string name, int rank, IReadOnlyList<LinearKind> kinds, ulong seed)
    {
        using var generator = new TorchSharp.torch.Generator(seed + 1000, CPU);
        var modules = new Dictionary<LinearSite, LoraModule>();
        for (var layer = 0; layer < model.Config.NumHiddenLayers; layer++)
        {
            foreach (var kind in kinds)
            {
                var (inF, outF) = model.Config.LinearShape(kind);
                var a = randn(rank, inF, generator: generator).mul_(1.0 / Math.Sqrt(inF));
                var b = randn(outF, rank, generator: generator).mul_(0.01);
                modules[new LinearSite(layer, kind)] = new LoraModule(a, b, rank, 2.0);
            }
        }

        return new LoraAdapter(name, "(memory)", modules, []);
    }

    private static double ColdLoad(LoadedModel model, LoraAdapter adapter, IReadOnlyList<LinearKind> kinds, int rank)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"bench-lora-{Environment.ProcessId}");
        PeftAdapterWriter.WriteLora(dir, model.Name, new LoraFileSettings(rank, 2.0 * rank, kinds), adapter.Modules.ToDictionary(m => m.Key, m => (m.Value.A, m.Value.B)));
        using var buffers = new LoraSlotBuffers(model.Model, 1, rank, kinds);
        var clock = Stopwatch.StartNew();
        using (var loaded = (LoraAdapter)PeftAdapterLoader.Load("cold", dir, model.Config, model.Name, rank))
        {
            buffers.Load(0, loaded);
        }

        var ms = clock.Elapsed.TotalMilliseconds;
        Directory.Delete(dir, recursive: true);
        return ms;
    }
}
