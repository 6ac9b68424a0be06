using InferenceHost.CommandLine;
using System.Diagnostics;
using InferenceHost.Engine.Generation;
using InferenceHost.Model;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Tools.Bench;

/// <summary>
/// <c>bench [--shape tinyllama-1.1b] [--dtype float32,bfloat16] [--prompt-tokens 512] [--decode-steps 16]
/// [--tokenizer PATH] [--work .models/bench] [--device cpu|cuda]</c>: load time, prefill tokens/s, decode tokens/s at batch 1, peak
/// RSS, and decode as a fraction of the memory-bandwidth roofline. Prints a Markdown table.
/// </summary>
public static class BenchCommand
{
    public static int Run(CliArgs args, TextWriter stdout)
    {
        var shape = args.Get("shape") ?? "tinyllama-1.1b";
        var dtypes = (args.Get("dtype") ?? "float32,bfloat16").Split(',').Select(DTypes.Parse).ToArray();
        var promptTokens = args.Int("prompt-tokens", 512);
        var steps = args.Int("decode-steps", 16);
        var tokenizer = args.Get("tokenizer") ?? Path.Combine("..", "shared", "fixtures", "tiny-llama", "tokenizer.model");
        var work = args.Get("work") ?? Path.Combine(".models", "bench");
        var device = Checks.DeviceOption.Parse(args.Get("device"));
        if (!File.Exists(tokenizer))
        {
            throw new CliException($"--tokenizer: '{tokenizer}' not found (a SentencePiece tokenizer.model with at most the shape's vocabulary)");
        }

        // Measured in a scope of its own first; its 2 GiB are freed before the model loads.
        var bandwidth = BenchSupport.CopyBandwidth(device);
        stdout.WriteLine($"memory copy bandwidth (read + write, 1 GiB float32 tensor, best of 5): {bandwidth / 1e9:F1} GB/s; torch threads: {get_num_threads()}");
        stdout.WriteLine();
        stdout.WriteLine("| shape | dtype | load (s) | prefill tok/s ({0} tokens) | decode tok/s (batch 1) | weight bytes / token | roofline tok/s | decode / roofline | peak RSS |".Replace("{0}", promptTokens.ToString()));
        stdout.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var dtype in dtypes)
        {
            var dir = BenchSupport.EnsureCheckpoint(work, shape, dtype, tokenizer, Console.Error);
            var clock = Stopwatch.StartNew();
            using var model = ModelLoader.Load(dir, new ModelLoadOptions { DType = dtype, Device = device, MaxSequenceLength = promptTokens + steps + 8 });
            var load = clock.Elapsed;
            using var cache = new KvCache(model.Config, 1, promptTokens + steps + 8, dtype, model.Model.Device);
            var stepper = new BatchStepper(model.Model, cache);
            if (device.type == TorchSharp.DeviceType.CUDA)
            {
                // cuBLAS handles and kernels are set up on the first product: keep that out of the prefill figure.
                BenchSupport.Prefilled(model, stepper, 1, promptTokens, steps + 2, null, out _).ForEach(s => s.Dispose());
            }

            var seqs = BenchSupport.Prefilled(model, stepper, 1, promptTokens, steps + 2, null, out var prefill);
            var decode = BenchSupport.DecodeTokensPerSecond(stepper, seqs, steps, null);
            var bytes = BenchSupport.WeightBytesPerToken(model.Model);
            var roofline = bandwidth / bytes;
            stdout.WriteLine($"| {shape} | {dtype.ToString().ToLowerInvariant()} | {load.TotalSeconds:F1} | {promptTokens / prefill.TotalSeconds:F0} | {decode:F2} | {BenchSupport.Gb(bytes)} | {roofline:F2} | {decode / roofline:P0} | {BenchSupport.Gb(BenchSupport.PeakRssBytes())} |");
            seqs.ForEach(s => s.Dispose());
        }

        return 0;
    }
}
