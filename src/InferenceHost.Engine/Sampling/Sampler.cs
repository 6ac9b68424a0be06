using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Engine.Sampling;

/// <summary>
/// Picks tokens for one sequence: argmax at temperature 0, otherwise temperature, top-k and top-p
/// filtering, then a draw from the sequence's own seeded generator. Owns that generator.
/// </summary>
public sealed class Sampler : IDisposable
{
    private readonly SamplingParams p;
    private readonly Generator? generator;

    public Sampler(SamplingParams parameters)
    {
        p = parameters;
        if (p.Temperature > 0)
        {
            var seed = p.Seed ?? Random.Shared.NextInt64(long.MaxValue);
            generator = new Generator((ulong)seed, CPU);
        }
    }

    /// <summary>Chooses the next token from <paramref name="logits"/> [vocab] (float32, any device).</summary>
    public int Sample(Tensor logits)
    {
        using var scope = NewDisposeScope();
        if (generator is null)
        {
            return (int)logits.argmax().item<long>();
        }

        var scaled = logits.to(CPU) / p.Temperature; // [V]
        if (p.TopK > 0 && p.TopK < scaled.shape[0])
        {
            var kth = scaled.topk(p.TopK).values[p.TopK - 1];
            scaled = scaled.masked_fill(scaled < kth, double.NegativeInfinity);
        }

        if (p.TopP < 1.0)
        {
            var (sorted, order) = scaled.sort(descending: true); // [V]
            var cumulative = sorted.softmax(-1).cumsum(-1);
            // Drop a token when the tokens before it already reach top_p (the first is always kept).
            var drop = (cumulative - sorted.softmax(-1)) > p.TopP;
            var dropInVocabOrder = zeros_like(drop).scatter(0, order, drop);
            scaled = scaled.masked_fill(dropInVocabOrder, double.NegativeInfinity);
        }

        var probs = scaled.softmax(-1);
        return (int)multinomial(probs, 1, replacement: false, generator: generator).item<long>();
    }

    public void Dispose() => generator?.Dispose();
}
