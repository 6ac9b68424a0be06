using InferenceHost.CommandLine;
using System.Diagnostics;
using InferenceHost.Engine.Generation;
using InferenceHost.Model;
using InferenceHost.Model.Llama;
using InferenceHost.Model.Quantization;
using static TorchSharp.torch;

namespace InferenceHost.Tools.Bench;

/// <summary>
/// <c>bench [--shape tinyllama-1.1b | --model DIR] [--dtype float32,bfloat16] [--quantization none] [--kernels on] [--fuse on]
/// [--row-kernels on] [--batches 1,8,32] [--rounds 1] [--prompt-tokens 512] [--decode-steps 16] [--checkpoint-dtype bfloat16] [--tokenizer PATH]
/// [--work .models/bench] [--device cpu|cuda]</c>: for every configuration (dtype × quantization × decode
/// kernels × fused projections × row kernels; quantized ones always use the kernels, fusion and row kernels only matter with them), load
/// time, resident weight bytes, prefill tokens/s, decode tokens/s at each batch size (1, 8 and 32), and batch-1 decode
/// against the memory-bandwidth roofline; then each decode's step split into the time inside the matrix
/// products and outside them (<see cref="Model.Kernels.ProductClock"/>). The configurations run in turn,
/// round after round (A B A B), each from a fresh load of the same checkpoint; every run is printed, then each
/// configuration's decode as a ratio to the first configuration's in the same round, and fused to unfused.
/// Prints Markdown.
/// </summary>
public static class BenchCommand
{
    private const int BatchPromptTokens = 16;

    private sealed record Config(ScalarType DType, WeightQuantization Quantization, bool Kernels, bool Fuse, bool Rows)
    {
        public override string ToString() =>
            $"{DType.ToString().ToLowerInvariant()} / {Quantization.Name()} / kernels {(Kernels ? (Fuse ? "on, fused" : "on, unfused") + (Rows ? "" : ", no row kernels") : "off")}";
    }

    public static int Run(CliArgs args, TextWriter stdout)
    {
        var shape = args.Get("shape") ?? "tinyllama-1.1b";
        var dtypes = args.List("dtype", "float32,bfloat16").Select(DTypes.Parse).ToArray();
        var quantizations = args.List("quantization", "none").Select(DTypes.ParseQuantization).ToArray();
        var kernels = OnOff(args, "kernels");
        var fuses = OnOff(args, "fuse");
        var rowKernels = OnOff(args, "row-kernels");
        var batches = args.List("batches", "1,8,32").Select(b => int.TryParse(b, out var n) && n > 0 ? n : throw new CliException($"--batches: '{b}' is not a positive integer")).Distinct().Order().ToArray();
        if (batches[0] != 1)
        {
            throw new CliException("--batches must include 1 (batch-1 decode is what the roofline compares)");
        }

        var rounds = args.Int("rounds", 1);
        var promptTokens = args.Int("prompt-tokens", 512);
        var steps = args.Int("decode-steps", 16);
        var checkpointDType = DTypes.Parse(args.Get("checkpoint-dtype") ?? "bfloat16");
        var tokenizer = args.Get("tokenizer") ?? Path.Combine("..", "shared", "fixtures", "tiny-llama", "tokenizer.model");
        var work = args.Get("work") ?? Path.Combine(".models", "bench");
        var device = Checks.DeviceOption.Parse(args.Get("device"));
        if (args.Get("model") is null && !File.Exists(tokenizer))
        {
            throw new CliException($"--tokenizer: '{tokenizer}' not found (a SentencePiece tokenizer.model with at most the shape's vocabulary)");
        }

        if (rounds < 1 || promptTokens < 1 || steps < 1)
        {
            throw new CliException("--rounds, --prompt-tokens and --decode-steps must be positive");
        }

        // Quantized weights are always multiplied by the kernels on the CPU (without them every product would unpack its
        // matrix); without the kernels there is nothing to fuse, so one run of each such configuration.
        var configs = (from d in dtypes
                       from q in quantizations
                       from k in kernels
                       from f in fuses
                       from r in rowKernels
                       where (q == WeightQuantization.None || k) && (k || (f == fuses[0] && r == rowKernels[0]))
                       select new Config(d, q, k, f, r)).ToList();
        var dir = args.Get("model") ?? BenchSupport.EnsureCheckpoint(work, shape, checkpointDType, tokenizer, Console.Error);
        if (!Directory.Exists(dir))
        {
            throw new CliException($"--model: directory '{dir}' does not exist");
        }

        // Measured in a scope of its own first; its 2 GiB are freed before the model loads.
        var bandwidth = BenchSupport.CopyBandwidth(device);
        stdout.WriteLine($"{(args.Get("model") is { } m ? m : $"{shape} from one {checkpointDType.ToString().ToLowerInvariant()} checkpoint")}; memory copy bandwidth (read + write, 1 GiB float32 tensor, best of 5): {bandwidth / 1e9:F1} GB/s; torch threads: {get_num_threads()}; kernel threads: {Model.Kernels.DecodeProducts.Threads}");
        stdout.WriteLine($"prefill: one {promptTokens}-token prompt; decode batch 1: {steps} steps after it; decode batch {string.Join(", ", batches.Skip(1))}: {steps} steps after {BatchPromptTokens}-token prompts");
        stdout.WriteLine();
        stdout.WriteLine($"| round | dtype / quantization / kernels | load (s) | resident weights | prefill tok/s | {Columns(batches, "decode tok/s (batch {0})")} | weight bytes / token | roofline tok/s | batch 1 / roofline | peak RSS |");
        stdout.WriteLine($"| --- | --- | --- | --- | --- | {Columns(batches, "---")} | --- | --- | --- | --- |");
        var results = new List<(int Round, Config Config, DecodeTiming[] Decode)>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var c in configs)
            {
                var r = Measure(dir, c, device, batches, promptTokens, steps);
                var roofline = bandwidth / r.BytesPerToken;
                var b1 = r.Decode[0].TokensPerSecond;
                results.Add((round, c, r.Decode));
                stdout.WriteLine($"| {round} | {c} | {r.Load.TotalSeconds:F1} | {BenchSupport.Gb(r.Resident)} | {r.Prefill:F1} | {string.Join(" | ", r.Decode.Select(d => d.TokensPerSecond.ToString("F2")))} | {BenchSupport.Gb(r.BytesPerToken)} | {roofline:F2} | {b1 / roofline:P0} | {BenchSupport.Gb(BenchSupport.PeakRssBytes())} |");
            }
        }

        stdout.WriteLine();
        stdout.WriteLine("Per decode step: wall time, inside the matrix products (linear modules and head, kernels and libtorch), outside them (attention, norms, RoPE, KV-cache writes, sampling, the step's own bookkeeping), and product calls (pool hand-offs or libtorch products):");
        stdout.WriteLine();
        stdout.WriteLine("| round | dtype / quantization / kernels | batch | step ms | in products ms | outside ms | outside share | product calls / step |");
        stdout.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var (round, c, decode) in results)
        {
            for (var i = 0; i < batches.Length; i++)
            {
                var d = decode[i];
                stdout.WriteLine($"| {round} | {c} | {batches[i]} | {d.StepMs:F2} | {d.ProductMs:F2} | {d.OutsideMs:F2} | {d.OutsideMs / d.StepMs:P0} | {d.CallsPerStep:F0} |");
            }
        }

        if (configs.Count > 1)
        {
            stdout.WriteLine();
            stdout.WriteLine($"Decode tok/s as a ratio to {configs[0]} in the same round:");
            stdout.WriteLine();
            stdout.WriteLine($"| round | configuration | {Columns(batches, "batch {0}")} |");
            stdout.WriteLine($"| --- | --- | {Columns(batches, "---")} |");
            foreach (var g in results.GroupBy(x => x.Round))
            {
                var baseline = g.First();
                foreach (var x in g.Skip(1))
                {
                    stdout.WriteLine($"| {g.Key} | {x.Config} | {Ratios(x.Decode, baseline.Decode)} |");
                }
            }
        }

        var pairs = (from f in results
                     where f.Config.Kernels && f.Config.Fuse
                     join u in results.Where(u => u.Config.Kernels && !u.Config.Fuse) on (f.Round, f.Config with { Fuse = false }) equals (u.Round, u.Config)
                     select (f, u)).ToList();
        if (pairs.Count > 0)
        {
            stdout.WriteLine();
            stdout.WriteLine("Fused to unfused in the same round: decode tok/s, and the change in ms outside the products per step:");
            stdout.WriteLine();
            stdout.WriteLine($"| round | dtype / quantization | {Columns(batches, "batch {0}")} | {Columns(batches, "outside ms Δ (batch {0})")} |");
            stdout.WriteLine($"| --- | --- | {Columns(batches, "---")} | {Columns(batches, "---")} |");
            foreach (var (f, u) in pairs)
            {
                stdout.WriteLine($"| {f.Round} | {f.Config.DType.ToString().ToLowerInvariant()} / {f.Config.Quantization.Name()} | {Ratios(f.Decode, u.Decode)} | {string.Join(" | ", f.Decode.Zip(u.Decode, (a, b) => (a.OutsideMs - b.OutsideMs).ToString("+0.00;-0.00")))} |");
            }
        }

        return 0;
    }

    private static string Columns(int[] batches, string format) => string.Join(" | ", batches.Select(b => string.Format(System.Globalization.CultureInfo.InvariantCulture, format, b)));

    private static string Ratios(DecodeTiming[] x, DecodeTiming[] baseline) =>
        string.Join(" | ", x.Zip(baseline, (a, b) => $"{a.TokensPerSecond / b.TokensPerSecond:F2}×"));

    private static bool[] OnOff(CliArgs args, string name) => args.List(name, "on").Select(k => k switch
    {
        "on" => true,
        "off" => false,
        _ => throw new CliException($"--{name}: '{k}' is not on or off"),
    }).ToArray();

    private static (TimeSpan Load, long Resident, long BytesPerToken, double Prefill, DecodeTiming[] Decode) Measure(string dir, Config c, Device device, int[] batches, int promptTokens, int steps)
    {
        var maxLength = Math.Max(promptTokens, BatchPromptTokens) + steps + 8; // the batched decodes follow 16-token prompts, which may be the longer
        var clock = Stopwatch.StartNew();
        using var model = ModelLoader.Load(dir, new ModelLoadOptions
        {
            DType = c.DType,
            Device = device,
            MaxSequenceLength = maxLength,
            Quantization = c.Quantization,
            DecodeKernels = c.Kernels,
            FuseProjections = c.Fuse,
            RowKernels = c.Rows,
        });
        var load = clock.Elapsed;
        using var cache = new KvCache(model.Config, batches[^1], maxLength, c.DType, model.Model.Device);
        var stepper = new BatchStepper(model.Model, cache);
        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            // cuBLAS handles and kernels are set up on the first product: keep that out of the prefill figure.
            BenchSupport.Prefilled(model, stepper, 1, promptTokens, steps + 2, null, out _).ForEach(s => s.Dispose());
        }

        var one = BenchSupport.Prefilled(model, stepper, 1, promptTokens, steps + 2, null, out var prefill);
        var decode = new List<DecodeTiming> { BenchSupport.Decode(stepper, one, steps, null) };
        one.ForEach(s => s.Dispose());
        foreach (var batch in batches.Skip(1))
        {
            var seqs = BenchSupport.Prefilled(model, stepper, batch, BatchPromptTokens, steps + 2, null, out _);
            decode.Add(BenchSupport.Decode(stepper, seqs, steps, null));
            seqs.ForEach(s => s.Dispose());
        }

        return (load, model.Model.WeightBytes, BenchSupport.WeightBytesPerToken(model.Model), promptTokens / prefill.TotalSeconds, decode.ToArray());
    }
}
