using InferenceHost.Engine.Generation;
using InferenceHost.Engine.Sampling;
using InferenceHost.Model;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Trainer.Evaluation;

/// <summary>Greedy generation through the engine's <see cref="Generator"/> (KV cache, batched), with an optional LoRA delta and soft prompt.</summary>
public static class GreedyDecoder
{
    public static List<string> Generate(LoadedModel model, IReadOnlyList<IReadOnlyList<int>> prompts, int maxNewTokens,
        ILinearDelta? delta = null, Tensor? prefix = null, int batchSize = 8)
    {
        using var noGrad = no_grad();
        var generator = new InferenceHost.Engine.Generation.Generator(model);
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = maxNewTokens };
        var texts = new List<string>(prompts.Count);
        for (var at = 0; at < prompts.Count; at += batchSize)
        {
            using var scope = NewDisposeScope();
            var sequences = prompts.Skip(at).Take(batchSize)
                .Select((p, i) => new Sequence(at + i, p, sampling, model.Tokenizer, model.EosIds) { Prefix = prefix })
                .ToList();
            try
            {
                generator.Run(sequences, delta);
                texts.AddRange(sequences.Select(s => model.Tokenizer.Decode(s.Generated).Trim()));
            }
            finally
            {
                sequences.ForEach(s => s.Dispose());
            }
        }

        return texts;
    }
}
