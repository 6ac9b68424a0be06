using InferenceHost.Model;
using InferenceHost.Model.Llama;

namespace InferenceHost.Engine.Generation;

/// <summary>
/// Runs a fixed set of sequences to completion in one batch: whole-prompt prefill in one pass, then
/// batched incremental decode, with one <see cref="ILinearDelta"/> for every row. The trainer uses it to
/// generate with adapters that are still being trained (live tensors, not files); serving goes through
/// <see cref="InferenceHost.Engine.InferenceEngine"/>, which drives <see cref="BatchStepper"/> itself for continuous batching.
/// </summary>
public sealed class Generator
{
    private readonly LoadedModel model;

    public Generator(LoadedModel model) => this.model = model;

    /// <summary>Generates for every sequence; <paramref name="onToken"/> sees each token as it is made. A row's failure throws.</summary>
    public void Run(IReadOnlyList<Sequence> sequences, ILinearDelta? delta = null, Action<Sequence, TokenEvent>? onToken = null)
    {
        if (sequences.Count == 0)
        {
            return;
        }

        var maxLength = sequences.Max(s => s.MaxLength);
        if (maxLength > model.Model.MaxPositions)
        {
            throw new ArgumentException($"a sequence needs {maxLength} positions but the model was loaded for {model.Model.MaxPositions}");
        }

        using var cache = new KvCache(model.Config, sequences.Count, maxLength, model.Model.DType, model.Model.Device);
        var stepper = new BatchStepper(model.Model, cache);
        for (var i = 0; i < sequences.Count; i++)
        {
            sequences[i].CacheRow = i;
        }

        var active = sequences.Where(s => !s.IsFinished).ToList();
        while (active.Count > 0)
        {
            var work = active.Select(s => (s, (int)BatchStepper.Pending(s))).ToArray();
            var outcomes = stepper.Step(work, delta);
            for (var i = 0; i < work.Length; i++)
            {
                if (outcomes[i].Failure is { } failure)
                {
                    throw failure;
                }

                if (outcomes[i].Token is { } e)
                {
                    onToken?.Invoke(work[i].s, e);
                }
            }

            active.RemoveAll(s => s.IsFinished);
        }
    }
}
