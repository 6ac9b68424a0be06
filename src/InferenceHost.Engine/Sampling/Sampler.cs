using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Engine.Sampling;

/// <summary>
/// Picks tokens for one sequence: argmax when greedy (temperature 0 or below <see cref="SamplingParams.GreedyBelow"/>),
/// otherwise temperature, top-k and top-p filtering, then a draw from the sequence's own seeded generator.
/// The caller hands it finite logits; what the parameters could still break (probabilities that are not
/// finite) is refused with an error naming the parameter, never sampled from. Owns the generator.
/// </summary>
public sealed class Sampler : IDisposable
{
    private readonly SamplingParams p;
    private readonly Generator? generator;

    public Sampler(SamplingParams parameters)
    {
        p = parameters;
        if (!p.IsGreedy)
        {
            var seed = p.Seed ?? Random.Shared.NextInt64(long.MaxValue);
            generator = new Generator((ulong)seed, CPU);
        }
    }

    /// <summary>Chooses the next token from <paramref name="logits"/> [vocab] (float32, finite, any device).</summary>
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
            var sortedProbs = sorted.softmax(-1);
            // Drop a token when the tokens before it already reach top_p (the first is always kept).
            var drop = (sortedProbs.cumsum(-1) - sortedProbs) > p.TopP;
            var dropInVocabOrder = zeros_like(drop).scatter(0, order, drop);
            scaled = scaled.masked_fill(dropInVocabOrder, double.NegativeInfinity);
        }

        var probs = scaled.softmax(-1); // [V], float32: softmax subtracts the max, so finite logits give finite probabilities
        if (!probs.isfinite().all().item<bool>())
        {
            throw new RequestFailedException($"temperature {p.Temperature:g3} with these logits gives probabilities that are not finite", "temperature");
        }

        return (int)multinomial(probs, 1, replacement: false, generator: generator).item<long>();
    }

    public void Dispose() => generator?.Dispose();
}
