using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Adapters.Slots;

/// <summary>
/// The device side of the slots: for every adaptable linear, preallocated stacked buffers
/// A [slots, maxRank, in] and Bᵀ [slots, maxRank, out] in the compute dtype (B is kept transposed so the
/// ranks of several slots concatenate into one [k·r, out] matrix without a copy-transposing step). Making
/// an adapter resident is a copy into one slot's rows, with the rows past its rank zeroed, so a slot can
/// be read at any width ≥ its rank; the model's graph never changes. Owns the buffers.
/// </summary>
public sealed class LoraSlotBuffers : IDisposable
{
    private readonly Dictionary<LinearSite, (Tensor A, Tensor B)> buffers = [];
    private readonly int[,] ranks; // [slot, site index]: 0 = adapter has nothing there
    private readonly double[,] scales; // [slot, site index]
    private readonly Dictionary<LinearSite, int> siteIndex = [];

    public LoraSlotBuffers(LlamaForCausalLM model, int slots, int maxRank, IReadOnlyCollection<LinearKind> kinds)
    {
        Slots = slots;
        MaxRank = maxRank;
        DType = model.DType;
        Device = model.Device;
        foreach (var linear in model.Linears.Where(l => kinds.Contains(l.Site.Kind)))
        {
            siteIndex[linear.Site] = siteIndex.Count; // shapes from the module, not its weight: a quantized base has no dense one
            buffers[linear.Site] = (
                zeros(slots, maxRank, linear.InFeatures, dtype: linear.DType, device: linear.Device),
                zeros(slots, maxRank, linear.OutFeatures, dtype: linear.DType, device: linear.Device));
        }

        ranks = new int[slots, siteIndex.Count];
        scales = new double[slots, siteIndex.Count];
    }

    public int Slots { get; }

    public int MaxRank { get; }

    /// <summary>The buffers' element type (the model's compute dtype).</summary>
    public ScalarType DType { get; }

    public Device Device { get; }

    public IReadOnlyCollection<LinearSite> Sites => buffers.Keys;

    public long Bytes => buffers.Values.Sum(b => (b.A.NumberOfElements * b.A.ElementSize) + (b.B.NumberOfElements * b.B.ElementSize));

    /// <summary>Device bytes one slot holds.</summary>
    public long BytesPerSlot => Bytes / Slots;

    /// <summary>Copies <paramref name="adapter"/> into <paramref name="slot"/>; sites it lacks get rank 0.</summary>
    public void Load(int slot, LoraAdapter adapter)
    {
        var missing = adapter.Modules.Keys.Where(s => !buffers.ContainsKey(s)).ToList();
        if (missing.Count > 0)
        {
            throw new AdapterException(adapter.Name, "target_modules",
                $"{missing[0].ModulePath} is not among the modules the server keeps LoRA slots for (Lora:TargetModules)");
        }

        using var noGrad = no_grad();
        foreach (var (site, (a, b)) in buffers)
        {
            var i = siteIndex[site];
            a[slot].zero_();
            b[slot].zero_();
            if (adapter.Modules.TryGetValue(site, out var m))
            {
                a[slot].narrow(0, 0, m.Rank).copy_(m.A); // [r, in]
                b[slot].narrow(0, 0, m.Rank).copy_(m.B.t()); // [r, out]
                ranks[slot, i] = m.Rank;
                scales[slot, i] = m.Scale;
            }
            else
            {
                ranks[slot, i] = 0;
            }
        }
    }

    /// <summary>Slot <paramref name="slot"/>'s matrices at <paramref name="site"/>, A [r, in] and Bᵀ [r, out] narrowed to its rank; null if it has none there.</summary>
    public (Tensor A, Tensor Bt, double Scale)? Get(int slot, LinearSite site)
    {
        if (!siteIndex.TryGetValue(site, out var i) || ranks[slot, i] == 0)
        {
            return null;
        }

        var r = ranks[slot, i];
        var (a, b) = buffers[site];
        return (a[slot].narrow(0, 0, r), b[slot].narrow(0, 0, r), scales[slot, i]);
    }

    /// <summary>The whole stacked buffers at <paramref name="site"/> (A [slots, maxRank, in], Bᵀ [slots, maxRank, out]); null if the server keeps no slots there.</summary>
    public (Tensor A, Tensor Bt)? Stacked(LinearSite site) => buffers.TryGetValue(site, out var ab) ? ab : null;

    /// <summary>The rank slot <paramref name="slot"/> has at <paramref name="site"/> (0 = nothing there) and its scale.</summary>
    public (int Rank, double Scale) RankAndScale(int slot, LinearSite site) =>
        siteIndex.TryGetValue(site, out var i) ? (ranks[slot, i], scales[slot, i]) : (0, 0);

    public void Dispose()
    {
        foreach (var (a, b) in buffers.Values)
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
