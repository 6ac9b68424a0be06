using System.Diagnostics;
using InferenceHost.CommandLine;
using InferenceHost.Model.Kernels;
using InferenceHost.Model.Quantization;
using static TorchSharp.torch;

namespace InferenceHost.Tools.Bench;

/// <summary>
/// <c>bench-kernels [--rows 1,2,4,8,12,16] [--formats float32,bfloat16,int8,nf4] [--in 2048] [--out 5632] [--rounds 3]</c>:
/// one decode-shaped product y[m, out] = x[m, in]·Wᵀ through the C# kernels and through libtorch (for the
/// quantized formats: unpack to bfloat16, then libtorch, the model's path for more rows), alternated A B A B
/// over <c>--rounds</c> rounds; every round is printed. This is the measurement behind
/// <see cref="DecodeProducts.MaxRows"/>.
/// </summary>
public static class KernelBenchCommand
{
    public static int Run(CliArgs args, TextWriter stdout)
    {
        var rows = args.List("rows", "1,2,4,8,12,16").Select(int.Parse).ToArray();
        var formats = args.List("formats", "float32,bfloat16,int8,nf4");
        var inF = args.Int("in", 2048);
        var outF = args.Int("out", 5632);
        var rounds = args.Int("rounds", 3);
        if (rows.Any(r => r < 1) || inF < 1 || outF < 1 || rounds < 1)
        {
            throw new CliException("--rows, --in, --out and --rounds must be positive");
        }

        stdout.WriteLine($"y[m, {outF}] = x[m, {inF}]·Wᵀ; kernel ISA per format: {string.Join(", ", formats.Select(f => $"{f} {DecodeProducts.Isa(Format(f))}"))}; {DecodeProducts.Threads} kernel threads, {get_num_threads()} torch threads");
        stdout.WriteLine();
        stdout.WriteLine("| format | weight bytes | m | kernel ms (each round) | libtorch ms (each round) | libtorch / kernel (best) | kernel GB/s (best) |");
        stdout.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        using var noGrad = no_grad();
        manual_seed(1);
        // Several copies of the weight, used in turn, so the bytes streamed per round exceed the caches (the L3 holds one TinyLlama MLP matrix).
        var copies = Math.Max(1, (int)Math.Ceiling(256e6 / (4.0 * outF * inF)));
        using var master = randn(outF, inF) * 0.02;
        foreach (var f in formats)
        {
            using var scope = NewDisposeScope();
            var dtype = f == "float32" ? ScalarType.Float32 : ScalarType.BFloat16;
            var dense = Enumerable.Range(0, copies).Select(i => (master + (i * 1e-3)).to_type(dtype)).ToArray();
            var quantized = f is "int8" or "nf4" ? dense.Select(d => QuantizedWeight.Quantize(d, WeightQuantizationNames.Parse(f), CPU)).ToArray() : null;
            var bytes = quantized?[0].Bytes ?? dense[0].NumberOfElements * dense[0].ElementSize;
            foreach (var m in rows)
            {
                var x = randn(m, inF).to_type(dtype);
                var next = 0;
                Func<Tensor> kernel = quantized is null
                    ? () => DecodeProducts.Linear(x, dense[next++ % copies])
                    : () => DecodeProducts.Linear(x, quantized[next++ % copies]);
                Func<Tensor> torchOp = quantized is null
                    ? () => nn.functional.linear(x, dense[next++ % copies])
                    : () =>
                    {
                        using var w = DecodeProducts.Unpack(quantized[next++ % copies], dtype); // LlamaLinear's path for more rows
                        return nn.functional.linear(x, w);
                    };
                var iterations = Math.Max(2 * copies, (int)(5e8 / ((double)bytes + 1))); // about 0.5 GB streamed per round
                var k = new List<double>();
                var t = new List<double>();
                Time(kernel, 1);
                Time(torchOp, 1);
                for (var r = 0; r < rounds; r++)
                {
                    k.Add(Time(kernel, iterations));
                    t.Add(Time(torchOp, iterations));
                }

                stdout.WriteLine($"| {f} | {bytes / 1e6:F1} MB ×{copies} | {m} | {string.Join(" / ", k.Select(v => v.ToString("F3")))} | {string.Join(" / ", t.Select(v => v.ToString("F3")))} | {t.Min() / k.Min():F2} | {bytes / (k.Min() / 1e3) / 1e9:F1} |");
            }

            foreach (var q in quantized ?? [])
            {
                q.Dispose();
            }
        }

        return 0;
    }

    private static KernelFormat Format(string f) => f switch
    {
        "float32" => KernelFormat.Float32,
        "bfloat16" => KernelFormat.BFloat16,
        "int8" => KernelFormat.Int8,
        "nf4" => KernelFormat.Nf4,
        _ => throw new CliException($"--formats: '{f}' is not one of float32, bfloat16, int8, nf4"),
    };

    /// <summary>Milliseconds per product, averaged over <paramref name="n"/> products.</summary>
    private static double Time(Func<Tensor> product, int n)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            product().Dispose();
        }

        return clock.Elapsed.TotalMilliseconds / n;
    }
}
