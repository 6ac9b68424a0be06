using System.Diagnostics;
using InferenceHost.Model.Checkpoints;
using static TorchSharp.torch;

namespace InferenceHost.Trainer.Training;

/// <summary>
/// Training FLOPs of a Llama, counted the way PaLM (appendix B) and nanoGPT's <c>estimate_mfu</c> count them:
/// a weight that takes part in a matmul costs 2 FLOPs per token forward, 2 more for the input's gradient and
/// 2 more for its own gradient (6·N for a trained weight, 4·N for a frozen one that gradients still flow
/// through); attention scores and the weighted sum cost 12·layers·(heads·head_dim)·T per token (forward QKᵀ
/// and A·V, 2·T·q each, times 3 for the backward), over the full T×T square. The embedding lookup, norms,
/// RoPE, softmax and the optimizer are not counted.
/// </summary>
public static class Flops
{
    /// <summary>The formula, as the report states it.</summary>
    public const string Formula =
        "per token: 6·N_trained + 4·N_frozen (N = matmul weights: q,k,v,o,gate,up,down per layer and the lm_head V·d, tied or not; " +
        "embedding lookup excluded) + 12·layers·heads·head_dim·T (attention, full T×T); tokens = non-padding tokens, T = batch row length";

    /// <summary>Weights that take part in a matmul per token: every linear module plus the lm_head (V·d, even when tied).</summary>
    public static long MatmulParameters(LlamaConfig c)
    {
        long d = c.HiddenSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim, inter = c.IntermediateSize;
        var perLayer = (d * q) + (2 * d * kv) + (q * d) + (3 * d * inter);
        return (c.NumHiddenLayers * perLayer) + ((long)c.VocabSize * d);
    }

    /// <summary>
    /// FLOPs of training on one token in a row of <paramref name="rowLength"/>: the base's matmul weights are
    /// trained (full, pretrain) or frozen (LoRA, prompt tuning), plus <paramref name="trainedExtraMatmul"/>
    /// trained weights outside the base that sit in a matmul (LoRA's A and B; 0 for a soft prompt).
    /// </summary>
    public static double PerToken(LlamaConfig c, Method method, long trainedExtraMatmul, int rowLength)
    {
        var n = (double)MatmulParameters(c);
        var dense = method is Method.Full or Method.Pretrain ? 6 * n : (4 * n) + (6.0 * trainedExtraMatmul);
        var attention = 12.0 * c.NumHiddenLayers * c.NumAttentionHeads * c.HeadDim * rowLength;
        return dense + attention;
    }
}

/// <summary>One timed fp32 GEMM: [M, K] × [K, N] and its best rate.</summary>
public sealed record GemmTiming(int M, int K, int N, double FlopsPerSecond);

/// <summary>
/// The machine's matmul peak as this process sees it: fp32 GEMMs of the model's own shapes (a micro-batch of
/// tokens through the MLP's up projection and through the lm_head) and a 1024³ square, each timed after a
/// warm-up for a fixed wall time, best iteration kept; the peak is the best of them. Measured once at the
/// start of a run with the run's thread count, so MFU = achieved / peak compares like with like.
/// </summary>
public sealed record MatmulPeak(double FlopsPerSecond, int Threads, IReadOnlyList<GemmTiming> Gemms)
{
    public static MatmulPeak Measure(LlamaConfig c, int tokensPerMicroBatch, double secondsPerShape = 0.1)
    {
        var m = Math.Clamp(tokensPerMicroBatch, 64, 4096);
        var shapes = new List<(int M, int K, int N)>
        {
            (m, c.HiddenSize, c.IntermediateSize),
            (m, c.HiddenSize, c.VocabSize),
            (1024, 1024, 1024),
        };
        var timings = shapes.Distinct().Select(s => Time(s.M, s.K, s.N, secondsPerShape)).ToList();
        return new MatmulPeak(timings.Max(t => t.FlopsPerSecond), get_num_threads(), timings);
    }

    public static GemmTiming Time(int m, int k, int n, double seconds)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var gen = new Generator(1234);
        var a = randn([m, k], ScalarType.Float32, generator: gen);
        var b = randn([k, n], ScalarType.Float32, generator: gen);
        for (var i = 0; i < 2; i++)
        {
            a.mm(b).Dispose();
        }

        var flop = 2.0 * m * k * n;
        var best = double.PositiveInfinity;
        var total = Stopwatch.StartNew();
        var iterations = 0;
        while (total.Elapsed.TotalSeconds < seconds || iterations < 3)
        {
            var t = Stopwatch.GetTimestamp();
            a.mm(b).Dispose();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t).TotalSeconds);
            iterations++;
        }

        return new GemmTiming(m, k, n, flop / best);
    }

    public override string ToString() =>
        $"{FlopsPerSecond / 1e9:F1} GFLOP/s fp32 on {Threads} thread(s) (best of " +
        string.Join(", ", Gemms.Select(g => $"{g.M}×{g.K}·{g.K}×{g.N} {g.FlopsPerSecond / 1e9:F1}")) + ")";
}
