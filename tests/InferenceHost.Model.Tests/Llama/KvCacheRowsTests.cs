using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Model.Tests.Llama;

/// <summary>
/// Attention reads a batch's cache rows through a view when they are consecutive and through a gather
/// otherwise: the same sequences must give the same logits whichever rows they occupy.
/// </summary>
public sealed class KvCacheRowsTests
{
    [Fact]
    public void Consecutive_offset_and_scattered_rows_give_the_same_logits()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(3);
        var config = SyntheticCheckpoint.Shapes["tiny"];
        using var model = new LlamaForCausalLM(config, ScalarType.Float32, CPU, 64);
        foreach (var p in model.parameters())
        {
            p.uniform_(-0.2, 0.2);
        }

        var prompts = new long[][] { [5, 9, 14, 2, 7], [11, 3], [8, 8, 1, 30] };
        var reference = Run(model, config, prompts, [0, 1, 2]);
        foreach (var rows in new long[][] { [1, 2, 3], [3, 0, 2], [2, 1, 0] })
        {
            var logits = Run(model, config, prompts, rows);
            for (var step = 0; step < reference.Count; step++)
            {
                var error = (logits[step] - reference[step]).abs().max().item<float>();
                Assert.True(error < 1e-5, $"rows {string.Join(',', rows)}, pass {step}: max difference {error}");
            }
        }
    }

    /// <summary>A batched prefill, then two decode steps (feeding token 4 each time); the logits of each pass.</summary>
    private static List<Tensor> Run(LlamaForCausalLM model, LlamaConfig config, long[][] prompts, long[] rows)
    {
        using var cache = new KvCache(config, rows: 4, maxLength: 32, ScalarType.Float32, CPU);
        var t = prompts.Max(p => p.Length);
        var ids = stack(prompts.Select(p => tensor(p.Concat(Enumerable.Repeat(0L, t - p.Length)).ToArray())).ToArray()); // [B, T]
        var results = new List<Tensor>
        {
            model.Forward(new ForwardBatch
            {
                Embeddings = model.Embed(ids),
                Starts = new long[prompts.Length],
                Lengths = prompts.Select(p => (long)p.Length).ToArray(),
                Cache = cache,
                CacheRows = rows,
            }),
        };
        var lengths = prompts.Select(p => (long)p.Length).ToArray();
        for (var step = 0; step < 2; step++)
        {
            results.Add(model.Forward(new ForwardBatch
            {
                Embeddings = model.Embed(full(prompts.Length, 1, 4L)),
                Starts = lengths.ToArray(),
                Lengths = Enumerable.Repeat(1L, prompts.Length).ToArray(),
                Cache = cache,
                CacheRows = rows,
            }));
            lengths = lengths.Select(l => l + 1).ToArray();
        }

        return results;
    }
}
