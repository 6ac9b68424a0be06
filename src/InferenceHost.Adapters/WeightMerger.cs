using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Adapters;

/// <summary>
/// Merged mode: writes one LoRA combination into the base weights (W = P + Σ weight · scale · B·A from the
/// pristine copy P of each touched matrix, through <see cref="LoraMath.MergeFrom"/>), and restores the base
/// exactly from those pristine copies — after any number of switches the weights equal the originals bit for bit. Refuses a merge that
/// could make weights non-finite, as PEFT's safe_merge does (by bounding the delta, see CheckBounded), leaving
/// the base untouched. Owns the pristine copies; which combination is merged is the engine's mode state.
/// </summary>
public sealed class WeightMerger : IDisposable
{
    private readonly LlamaForCausalLM model;
    private readonly Dictionary<LinearSite, Tensor> pristine = [];
    private readonly HashSet<LinearSite> dirty = [];

    public WeightMerger(LlamaForCausalLM model) => this.model = model;

    /// <summary>
    /// Merges <paramref name="loras"/> (none = the base alone) in place of whatever was merged: each matrix the
    /// combination touches is written once from its pristine copy (<see cref="LoraMath.MergeFrom"/>, so the
    /// restore and the merge are one pass), and only the matrices the previous combination touched and this one
    /// does not are copied back.
    /// </summary>
    public void Merge(IReadOnlyList<LoraUse> loras)
    {
        try
        {
            CheckBounded(loras);
        }
        catch (AdapterException)
        {
            Restore();
            throw;
        }

        using var noGrad = no_grad();
        var terms = new Dictionary<LinearSite, List<(Tensor A, Tensor B, double Scale)>>();
        foreach (var (adapter, weight) in loras)
        {
            foreach (var (site, m) in adapter.Modules)
            {
                if (!terms.TryGetValue(site, out var list))
                {
                    terms[site] = list = [];
                }

                list.Add((m.A, m.B, m.Scale * weight));
            }
        }

        foreach (var site in dirty.Where(s => !terms.ContainsKey(s)))
        {
            model.Linear(site).Weight.copy_(pristine[site]);
        }

        dirty.Clear();
        foreach (var (site, list) in terms)
        {
            var w = model.Linear(site).Weight; // [out, in]
            if (!pristine.TryGetValue(site, out var p))
            {
                pristine[site] = p = w.clone();
            }

            dirty.Add(site);
            LoraMath.MergeFrom(w, p, list);
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
