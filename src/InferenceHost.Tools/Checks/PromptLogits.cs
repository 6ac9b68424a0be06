using InferenceHost.Adapters;
using InferenceHost.Adapters.Slots;
using InferenceHost.Model;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Tools.Checks;

/// <summary>
/// Logits at every position of one prompt, with LoRAs (weighted, merged into the weights or applied unmerged through
/// the slot buffers the server uses) and at most one soft prompt: the numbers to compare with Hugging Face's
/// <c>LlamaForCausalLM</c> / <c>PeftModel</c> forward pass. The soft prompt's own positions are dropped, as when
/// slicing PEFT's output after its virtual tokens.
/// </summary>
public static class PromptLogits
{
    /// <summary>[T, vocab] float32 on the CPU, one row per prompt token.</summary>
    public static Tensor Compute(LoadedModel model, IReadOnlyList<int> ids, IReadOnlyList<(Adapter Adapter, double Weight)> adapters, bool merged)
    {
        var loras = adapters.Where(a => a.Adapter is LoraAdapter).Select(a => ((LoraAdapter)a.Adapter, a.Weight)).ToList();
        var soft = adapters.Select(a => a.Adapter).OfType<SoftPromptAdapter>().ToList();
        if (soft.Count > 1)
        {
            throw new ArgumentException($"at most one soft prompt per request ({string.Join(", ", soft.Select(s => s.Name))} given)");
        }

        if (ids.Count == 0)
        {
            throw new ArgumentException("the prompt has no tokens");
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var m = model.Model;
        var tokens = m.Embed(tensor(ids.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64, device: m.Device).view(1, -1)); // [1, T, hidden]
        var virtualTokens = soft.Count == 1 ? soft[0].VirtualTokens : 0;
        var embeddings = soft.Count == 1 ? cat([soft[0].Embeddings.to(m.DType, m.Device).unsqueeze(0), tokens], 1) : tokens; // [1, n + T, hidden]
        var length = embeddings.shape[1];

        using var merger = merged && loras.Count > 0 ? new WeightMerger(m) : null;
        using var buffers = !merged && loras.Count > 0 ? SlotsFor(m, loras) : null;
        try
        {
            merger?.Merge(loras.Select(l => new LoraUse(l.Item1, l.Weight)).ToList());
            ILinearDelta? delta = buffers is null ? null
                : new LoraBatchDelta(buffers, [loras.Select((l, i) => new SlotWeight(i, l.Weight)).ToArray()], m.Device);
            var logits = m.Forward(new ForwardBatch { Embeddings = embeddings, Starts = [0], Lengths = [length], Logits = LogitsMode.All, Delta = delta }); // [1, n + T, V]
            return logits[0].narrow(0, virtualTokens, ids.Count).cpu().MoveToOuterDisposeScope(); // [T, V]
        }
        finally
        {
            merger?.Restore();
        }
    }

    private static LoraSlotBuffers SlotsFor(LlamaForCausalLM model, IReadOnlyList<(LoraAdapter Adapter, double Weight)> loras)
    {
        var kinds = loras.SelectMany(l => l.Adapter.TargetKinds).Distinct().ToArray();
        var buffers = new LoraSlotBuffers(model, loras.Count, loras.Max(l => l.Adapter.MaxRank), kinds);
        for (var i = 0; i < loras.Count; i++)
        {
            buffers.Load(i, loras[i].Adapter);
        }

        return buffers;
    }
}
