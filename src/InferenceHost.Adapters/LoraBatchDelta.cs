using InferenceHost.Adapters.Slots;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Adapters;

/// <summary>One LoRA a batch row uses: its slot and the request's weight for it.</summary>
public readonly record struct SlotWeight(int Slot, double Weight);

/// <summary>
/// The unmerged LoRA kernel for one forward pass: y += Σ weight · scale · B·(A·x) per row, with each
/// row's LoRAs given as slots (none = base). Three paths, chosen per pass:
/// <list type="bullet">
/// <item>every row on the same slot with the same weight: two plain products (the single-adapter case);</item>
/// <item>decode (one position per row) with several slots: the slots' A and Bᵀ are stacked into one
/// [k·r, in] and one [k·r, out] matrix, every row is multiplied by all of them, and a per-row mask
/// (weight · scale on the row's own slots' columns, 0 elsewhere) keeps each row's share — a fixed
/// handful of operations whatever k is (punica's BGMV idea, expressed as dense products);</item>
/// <item>prefill (several positions per row) with several slots: rows grouped by slot, one pair of
/// products per slot on that slot's rows only (SGMV), because there the k-fold arithmetic of the dense
/// form would outweigh the per-slot operation overhead.</item>
/// </list>
/// Slot buffers keep the rows past an adapter's rank at zero, so slots of different ranks stack at the
/// largest rank present.
/// </summary>
public sealed class LoraBatchDelta : ILinearDelta
{
    private readonly LoraSlotBuffers buffers;
    private readonly int rowCount;
    private readonly int[] slots; // the distinct slots the batch uses
    private readonly double[,] weights; // [row, index into slots]
    private readonly bool shared; // one slot, on every row, with one weight
    private readonly Dictionary<LinearSite, (int Rank, Tensor Mask)> masks = [];
    private readonly Tensor? slotIndex;
    private readonly List<Group> groups = [];

    public LoraBatchDelta(LoraSlotBuffers buffers, IReadOnlyList<IReadOnlyList<SlotWeight>> rows, Device device)
    {
        this.buffers = buffers;
        rowCount = rows.Count;
        slots = rows.SelectMany(r => r.Select(sw => sw.Slot)).Distinct().Order().ToArray();
        weights = new double[rowCount, slots.Length];
        for (var i = 0; i < rowCount; i++)
        {
            foreach (var sw in rows[i])
            {
                weights[i, Array.IndexOf(slots, sw.Slot)] += sw.Weight;
            }
        }

        shared = slots.Length == 1 && Enumerable.Range(0, rowCount).All(i => weights[i, 0] == weights[0, 0]) && weights[0, 0] != 0;
        if (slots.Length == 0 || shared)
        {
            return;
        }

        // Every tensor the passes reuse is made here, in the caller's dispose scope: the model's layers
        // open scopes of their own, which would free anything first made inside Apply.
        slotIndex = tensor(slots.Select(s => (long)s).ToArray(), dtype: ScalarType.Int64, device: device);
        BuildMasks(device);
        BuildGroups(device);
    }

    /// <summary>One slot with one weight on every row, whatever the batch size (evaluation, benchmarks).</summary>
    public static LoraBatchDelta ForAll(LoraSlotBuffers buffers, int slot, double weight = 1.0) =>
        new(buffers, [[new SlotWeight(slot, weight)]], buffers.Device);

    public Tensor Apply(LinearSite site, Tensor x, Tensor y)
    {
        if (slots.Length == 0)
        {
            return y;
        }

        if (shared)
        {
            return ApplyShared(site, x, y);
        }

        return x.shape[1] == 1 ? ApplyStacked(site, x, y) : ApplyGrouped(site, x, y);
    }

    private Tensor ApplyShared(LinearSite site, Tensor x, Tensor y)
    {
        if (buffers.Get(slots[0], site) is not { } m)
        {
            return y;
        }

        using var scope = NewDisposeScope();
        y.add_(LoraMath.Product(x, m.A, m.Bt), alpha: m.Scale * weights[0, 0]); // [B, T, out]
        return y;
    }

    private Tensor ApplyStacked(LinearSite site, Tensor x, Tensor y)
    {
        if (!masks.TryGetValue(site, out var m) || buffers.Stacked(site) is not { } stackedAb)
        {
            return y;
        }

        var (k, r) = (slots.Length, m.Rank);
        using var scope = NewDisposeScope();
        Tensor a, bt;
        if (k == 1)
        {
            a = stackedAb.A[slots[0]].narrow(0, 0, r); // [r, in]
            bt = stackedAb.Bt[slots[0]].narrow(0, 0, r); // [r, out]
        }
        else
        {
            a = stackedAb.A.narrow(1, 0, r).index_select(0, slotIndex!).view(k * r, -1); // [k·r, in]
            bt = stackedAb.Bt.narrow(1, 0, r).index_select(0, slotIndex!).view(k * r, -1); // [k·r, out]
        }

        var shrunk = matmul(x, a.t()); // [B, 1, k·r]
        shrunk.mul_(m.Mask);
        y.add_(matmul(shrunk, bt));
        return y;
    }

    /// <summary>
    /// Per site, the stacked width r (the largest rank among the batch's slots there) and the mask
    /// [B, 1, k·r]: row i's column j·r + c holds weight(i, slot j) · scale(slot j), 0 past slot j's rank.
    /// Sites with the same ranks and scales share one mask. Sites no batch slot touches get none.
    /// </summary>
    private void BuildMasks(Device device)
    {
        var k = slots.Length;
        var bySignature = new Dictionary<string, Tensor>();
        foreach (var site in buffers.Sites)
        {
            var rs = slots.Select(s => buffers.RankAndScale(s, site)).ToArray();
            var r = rs.Max(x => x.Rank);
            if (r == 0)
            {
                continue;
            }

            var key = string.Join(';', rs.Select(x => $"{x.Rank}:{x.Scale:R}"));
            if (!bySignature.TryGetValue(key, out var mask))
            {
                var values = new float[rowCount * k * r];
                for (var i = 0; i < rowCount; i++)
                {
                    for (var j = 0; j < k; j++)
                    {
                        var v = (float)(weights[i, j] * rs[j].Scale);
                        for (var c = 0; c < rs[j].Rank; c++)
                        {
                            values[(((i * k) + j) * r) + c] = v;
                        }
                    }
                }

                bySignature[key] = mask = tensor(values, dtype: ScalarType.Float32).view(rowCount, 1, k * r).to(buffers.DType, device);
            }

            masks[site] = (r, mask);
        }
    }

    private Tensor ApplyGrouped(LinearSite site, Tensor x, Tensor y)
    {
        foreach (var g in groups)
        {
            if (buffers.Get(g.Slot, site) is not { } m)
            {
                continue;
            }

            using var scope = NewDisposeScope();
            var xs = x.index_select(0, g.Rows); // [n, T, in]
            var delta = LoraMath.Product(xs, m.A, m.Bt); // [n, T, out]
            var w = g.Weights * m.Scale; // [n, 1, 1]
            y.index_add_(0, g.Rows, delta * w, 1);
        }

        return y;
    }

    private void BuildGroups(Device device)
    {
        for (var j = 0; j < slots.Length; j++)
        {
            var members = Enumerable.Range(0, rowCount).Where(i => weights[i, j] != 0).ToArray();
            if (members.Length > 0)
            {
                groups.Add(new Group(
                    slots[j],
                    tensor(members.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64, device: device),
                    tensor(members.Select(i => (float)weights[i, j]).ToArray(), dtype: ScalarType.Float32).view(-1, 1, 1).to(buffers.DType, device)));
            }
        }
    }

    private sealed record Group(int Slot, Tensor Rows, Tensor Weights);
}
