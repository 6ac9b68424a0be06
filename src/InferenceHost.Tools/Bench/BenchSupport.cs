using System.Diagnostics;
using InferenceHost.Engine.Generation;
using InferenceHost.Engine.Sampling;
using InferenceHost.Model;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Kernels;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Tools.Bench;

/// <summary>Shared pieces of the benchmarks: the synthetic model, memory bandwidth, timed decode steps.</summary>
internal static class BenchSupport
{
    /// <summary>Makes (once) and returns a synthetic checkpoint of <paramref name="shape"/> in <paramref name="dtype"/>.</summary>
    public static string EnsureCheckpoint(string workDir, string shape, ScalarType dtype, string tokenizer, TextWriter log)
    {
        var dir = Path.Combine(workDir, $"{shape}-{dtype.ToString().ToLowerInvariant()}");
        if (!File.Exists(Path.Combine(dir, "config.json")))
        {
            log.WriteLine($"writing synthetic {shape} ({dtype}) to {dir} ...");
            SyntheticCheckpoint.Write(dir, shape, seed: 0, tokenizer, dtype);
        }

        return dir;
    }

    /// <summary>Copy bandwidth in bytes/s (read + write) over a tensor of <paramref name="bytes"/> bytes on <paramref name="device"/>; best of 5.</summary>
    public static double CopyBandwidth(Device device, long bytes = 1L << 30) => Checks.DeviceProbeCommand.CopyBandwidth(device, bytes);

    /// <summary>Bytes of weights one decode step reads: every linear (dense, or codes and scales), the norms, and the output head (one embedding row is negligible).</summary>
    public static long WeightBytesPerToken(LlamaForCausalLM model)
    {
        var embedding = model.Model.EmbedTokens.Weight;
        return model.WeightBytes - (model.Config.TieWordEmbeddings ? 0 : embedding.NumberOfElements * embedding.ElementSize);
    }

    public static long PeakRssBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            }
        }

        return 0;
    }

    /// <summary>Creates <paramref name="batch"/> sequences with random prompts of <paramref name="promptTokens"/> tokens and prefills them.</summary>
    public static List<Sequence> Prefilled(LoadedModel model, BatchStepper stepper, int batch, int promptTokens, int maxTokens, Func<ILinearDelta?>? delta, out TimeSpan prefillTime)
    {
        var rng = new Random(batch * 7919 + promptTokens);
        var seqs = new List<Sequence>();
        for (var i = 0; i < batch; i++)
        {
            var ids = Enumerable.Range(0, promptTokens).Select(_ => rng.Next(3, model.Config.VocabSize)).ToArray();
            seqs.Add(new Sequence(i, ids, new SamplingParams { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true }, model.Tokenizer, model.EosIds));
            seqs[i].CacheRow = i;
        }

        var clock = Stopwatch.StartNew();
        Step(stepper, seqs, promptTokens, delta);
        prefillTime = clock.Elapsed;
        return seqs;
    }

    /// <summary>Decodes <paramref name="steps"/> tokens for every sequence; returns batch tokens per second.</summary>
    public static double DecodeTokensPerSecond(BatchStepper stepper, List<Sequence> seqs, int steps, Func<ILinearDelta?>? delta) =>
        Decode(stepper, seqs, steps, delta).TokensPerSecond;

    /// <summary>
    /// Decodes <paramref name="steps"/> tokens for every sequence after one warm-up step, with the products timed
    /// (<see cref="ProductClock"/>: its two timestamps per product are noise against a step's milliseconds).
    /// </summary>
    public static DecodeTiming Decode(BatchStepper stepper, List<Sequence> seqs, int steps, Func<ILinearDelta?>? delta)
    {
        Step(stepper, seqs, 1, delta); // warm-up step
        ProductClock.Take();
        ProductClock.Enabled = true;
        try
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < steps; i++)
            {
                Step(stepper, seqs, 1, delta);
            }

            var elapsed = clock.Elapsed;
            var (products, calls) = ProductClock.Take();
            return new DecodeTiming(steps * seqs.Count / elapsed.TotalSeconds, elapsed.TotalMilliseconds / steps, products.TotalMilliseconds / steps, (double)calls / steps);
        }
        finally
        {
            ProductClock.Enabled = false;
        }
    }

    /// <summary>One step with the delta built just before it, as the engine builds it for every pass.</summary>
    private static void Step(BatchStepper stepper, List<Sequence> seqs, int count, Func<ILinearDelta?>? delta)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        stepper.Step(seqs.Select(s => (s, count)).ToList(), delta?.Invoke());
    }

    public static string Gb(double bytes) => $"{bytes / 1e9:F2} GB";
}

/// <summary>
/// Timed decode steps: batch tokens per second, and per step its wall time, the time inside the model's matrix
/// products (linear modules and head, kernels and libtorch; LoRA deltas count as outside) and how many product
/// calls (pool hand-offs or libtorch products) it made.
/// </summary>
internal readonly record struct DecodeTiming(double TokensPerSecond, double StepMs, double ProductMs, double CallsPerStep)
{
    public double OutsideMs => StepMs - ProductMs;
}
