using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Adapters;

/// <summary>
/// Merged mode: adds one LoRA combination into the base weights (W += Σ weight · scale · B·A, through
/// <see cref="LoraMath.MergeInto"/>), and restores the base exactly from pristine copies of the touched
/// matrices — after any number of switches the weights equal the originals bit for bit. Refuses a merge that
/// could make weights non-finite, as PEFT's safe_merge does (by bounding the delta, see CheckBounded), leaving
/// the base untouched. Owns the pristine copies; which combination is merged is the engine's mode state.
/// </summary>
public sealed class WeightMerger : IDisposable
{
    private readonly LlamaForCausalLM model;
    private readonly Dictionary<LinearSite, Tensor> pristine = [];
    private readonly HashSet<LinearSite> dirty = [];

    public WeightMerger(LlamaForCausalLM model) => this.model = model;

    /// <summary>Restores the base, then merges <paramref name="loras"/> (none = the base alone).</summary>
    public void Merge(IReadOnlyList<LoraUse> loras)
    {
        Restore();
        CheckBounded(loras);
        using var noGrad = no_grad();
        foreach (var (adapter, weight) in loras)
        {
            foreach (var (site, m) in adapter.Modules)
            {
                var w = model.Linear(site).Weight; // [out, in]
                if (!pristine.ContainsKey(site))
                {
                    pristine[site] = w.clone();
                }

                dirty.Add(site);
                using var a = m.A.to(w.dtype, w.device);
                using var b = m.B.to(w.dtype, w.device);
                LoraMath.MergeInto(w, a, b, m.Scale * weight);
            }
        }
    }

    /// <summary>
    /// PEFT's safe_merge refuses a merge that makes weights non-finite. Checking every merged weight costs far
    /// more than the merge (a full pass, 50x the merge itself); instead this bounds the delta from the small
    /// factors (<see cref="LoraMath.DeltaBound"/>). A and B were checked finite at load, so a bound far below the
    /// dtype's range proves the merged weights stay finite.
    /// </summary>
    private static void CheckBounded(IReadOnlyList<LoraUse> loras)
    {
        var bounds = new Dictionary<LinearSite, double>();
        foreach (var (adapter, weight) in loras)
        {
            foreach (var (site, m) in adapter.Modules)
            {
                bounds[site] = bounds.GetValueOrDefault(site) + LoraMath.DeltaBound(m.A, m.B, m.Rank, weight * m.Scale);
                if (!double.IsFinite(bounds[site]) || bounds[site] > 1e30)
                {
                    throw new AdapterException(string.Join("+", loras.Select(l => l.Adapter.Name)), site.ModulePath,
                        $"merging could make weights non-finite (delta bound {bounds[site]:g3}); the base was left untouched");
                }
            }
        }
    }

    /// <summary>Puts the base weights back (a copy from the pristine tensors).</summary>
    public void Restore()
    {
        using var noGrad = no_grad();
        foreach (var site in dirty)
        {
            model.Linear(site).Weight.copy_(pristine[site]);
        }

        dirty.Clear();
    }

    public void Dispose()
    {
        foreach (var t in pristine.Values)
        {
            t.Dispose();
        }
    }
}
