using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Adapters;

/// <summary>
/// Merged mode: adds one LoRA combination into the base weights (W += Σ weight · scale · B·A, with
/// addmm_ so B·A is never materialized), and restores the base exactly from pristine copies of the
/// touched matrices — after any number of switches the weights equal the originals bit for bit.
/// Checks for non-finite results as PEFT's safe_merge does. Owns the pristine copies.
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

        var broken = dirty.FirstOrDefault(s => !model.Linear(s).Weight.isfinite().all().item<bool>());
        if (dirty.Count > 0 && !model.Linear(broken).Weight.isfinite().all().item<bool>())
        {
            Restore();
            throw new AdapterException(string.Join("+", loras.Select(l => l.Adapter.Name)), broken.ModulePath, "merging produced NaN or infinite weights; the base was restored");
        }

        MergedKey = key;
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
