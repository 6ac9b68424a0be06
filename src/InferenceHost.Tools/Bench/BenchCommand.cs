using InferenceHost.CommandLine;
using System.Diagnostics;
using InferenceHost.Engine.Generation;
using InferenceHost.Model;
using InferenceHost.Model.Llama;
using InferenceHost.Model.Quantization;
using static TorchSharp.torch;

namespace InferenceHost.Tools.Bench;

/// <summary>
/// <c>bench [--shape tinyllama-1.1b] [--dtype float32,bfloat16] [--quantization none] [--kernels on]
/// [--rounds 1] [--prompt-tokens 512] [--decode-steps 16] [--checkpoint-dtype bfloat16] [--tokenizer PATH]
/// [--work .models/bench] [--device cpu|cuda]</c>: for every configuration (dtype × quantization × decode
/// kernels; quantized ones always use the kernels), load time, resident weight bytes, prefill tokens/s,
/// decode tokens/s at batch 1 and 8, and batch-1 decode against the memory-bandwidth roofline. The
/// configurations run in turn, round after round (A B A B), each from a fresh load of the same checkpoint;
/// every run is printed, then each configuration's batch-1 and batch-8 decode as a ratio to the first
/// configuration's in the same round. Prints Markdown.
/// </summary>
public static class BenchCommand
{
    private const int BatchPromptTokens = 16;

    private sealed record Config(ScalarType DType, WeightQuantization Quantization, bool Kernels)
    {
        public override string ToString() => $"{DType.ToString().ToLowerInvariant()} / {Quantization.Name()} / kernels {(Kernels ? "on" : "off")}";
    }

    public static int Run(CliArgs args, TextWriter stdout)
    {
        var shape = args.Get("shape") ?? "tinyllama-1.1b";
        var dtypes = args.List("dtype", "float32,bfloat16").Select(DTypes.Parse).ToArray();
        var quantizations = args.List("quantization", "none").Select(DTypes.ParseQuantization).ToArray();
        var kernels = args.List("kernels", "on").Select(k => k switch
        {
            "on" => true,
            "off" => false,
            _ => throw new CliException($"--kernels: '{k}' is not on or off"),
        }).ToArray();
        var rounds = args.Int("rounds", 1);
        var promptTokens = args.Int("prompt-tokens", 512);
        var steps = args.Int("decode-steps", 16);
        var checkpointDType = DTypes.Parse(args.Get("checkpoint-dtype") ?? "bfloat16");
        var tokenizer = args.Get("tokenizer") ?? Path.Combine("..", "shared", "fixtures", "tiny-llama", "tokenizer.model");
        var work = args.Get("work") ?? Path.Combine(".models", "bench");
        var device = Checks.DeviceOption.Parse(args.Get("device"));
        if (!File.Exists(tokenizer))
        {
            throw new CliException($"--tokenizer: '{tokenizer}' not found (a SentencePiece tokenizer.model with at most the shape's vocabulary)");
        }

        if (rounds < 1 || promptTokens < 1 || steps < 1)
        {
            throw new CliException("--rounds, --prompt-tokens and --decode-steps must be positive");
        }

        // Quantized weights are always multiplied by the kernels on the CPU (without them every product would unpack its matrix).
        var configs = (from d in dtypes from q in quantizations from k in kernels where q == WeightQuantization.None || k select new Config(d, q, k)).ToList();
        var dir = BenchSupport.EnsureCheckpoint(work, shape, checkpointDType, tokenizer, Console.Error);

        // Measured in a scope of its own first; its 2 GiB are freed before the model loads.
        var bandwidth = BenchSupport.CopyBandwidth(device);
        stdout.WriteLine($"{shape} from one {checkpointDType.ToString().ToLowerInvariant()} checkpoint; memory copy bandwidth (read + write, 1 GiB float32 tensor, best of 5): {bandwidth / 1e9:F1} GB/s; torch threads: {get_num_threads()}; kernel threads: {Model.Kernels.DecodeProducts.Threads}");
        stdout.WriteLine($"prefill: one {promptTokens}-token prompt; decode batch 1: {steps} steps after it; decode batch 8: {steps} steps after {BatchPromptTokens}-token prompts");
        stdout.WriteLine();
        stdout.WriteLine("| round | dtype / quantization / kernels | load (s) | resident weights | prefill tok/s | decode tok/s (batch 1) | decode tok/s (batch 8) | weight bytes / token | roofline tok/s | batch 1 / roofline | peak RSS |");
        stdout.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        var results = new List<(int Round, Config Config, double B1, double B8)>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var c in configs)
            {
                var r = Measure(dir, c, device, promptTokens, steps);
                var roofline = bandwidth / r.BytesPerToken;
                results.Add((round, c, r.B1, r.B8));
                stdout.WriteLine($"| {round} | {c} | {r.Load.TotalSeconds:F1} | {BenchSupport.Gb(r.Resident)} | {r.Prefill:F1} | {r.B1:F2} | {r.B8:F2} | {BenchSupport.Gb(r.BytesPerToken)} | {roofline:F2} | {r.B1 / roofline:P0} | {BenchSupport.Gb(BenchSupport.PeakRssBytes())} |");
            }
        }

        if (configs.Count > 1)
        {
            stdout.WriteLine();
            stdout.WriteLine($"Decode tok/s as a ratio to {configs[0]} in the same round:");
            stdout.WriteLine();
            stdout.WriteLine("| round | configuration | batch 1 | batch 8 |");
            stdout.WriteLine("| --- | --- | --- | --- |");
            foreach (var g in results.GroupBy(x => x.Round))
            {
                var baseline = g.First();
                foreach (var x in g.Skip(1))
                {
                    stdout.WriteLine($"| {g.Key} | {x.Config} | {x.B1 / baseline.B1:F2}× | {x.B8 / baseline.B8:F2}× |");
                }
            }
        }

        return 0;
    }

    private static (TimeSpan Load, long Resident, long BytesPerToken, double Prefill, double B1, double B8) Measure(string dir, Config c, Device device, int promptTokens, int steps)
    {
        var clock = Stopwatch.StartNew();
        using var model = ModelLoader.Load(dir, new ModelLoadOptions
        {
            DType = c.DType,
            Device = device,
            MaxSequenceLength = promptTokens + steps + 8,
            Quantization = c.Quantization,
            DecodeKernels = c.Kernels,
        });
        var load = clock.Elapsed;
        using var cache = new KvCache(model.Config, 8, promptTokens + steps + 8, c.DType, model.Model.Device);
        var stepper = new BatchStepper(model.Model, cache);
        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            // cuBLAS handles and kernels are set up on the first product: keep that out of the prefill figure.
            BenchSupport.Prefilled(model, stepper, 1, promptTokens, steps + 2, null, out _).ForEach(s => s.Dispose());
        }

        var one = BenchSupport.Prefilled(model, stepper, 1, promptTokens, steps + 2, null, out var prefill);
        var b1 = BenchSupport.DecodeTokensPerSecond(stepper, one, steps, null);
        one.ForEach(s => s.Dispose());
        var eight = BenchSupport.Prefilled(model, stepper, 8, BatchPromptTokens, steps + 2, null, out _);
        var b8 = BenchSupport.DecodeTokensPerSecond(stepper, eight, steps, null);
        eight.ForEach(s => s.Dispose());
        return (load, model.Model.WeightBytes, BenchSupport.WeightBytesPerToken(model.Model), promptTokens / prefill.TotalSeconds, b1, b8);
    }
}
