using InferenceHost.Adapters.Slots;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Adapters;

/// <summary>One LoRA a batch row uses: its slot and the request's weight for it.</summary>
public readonly record struct SlotWeight(int Slot, double Weight);

/// <summary>
/// The unmerged LoRA kernel for one forward pass: y += Σ weight · scale · B·(A·x) per row, with each
/// row's LoRAs given as slots (none = base). Rows are grouped by slot, so the cost grows with the
/// number of distinct adapters in the batch, not with the batch size (S-LoRA / punica's SGMV idea).
/// </summary>
public sealed class LoraBatchDelta : ILinearDelta
{
    private readonly LoraSlotBuffers buffers;
    private readonly List<Group> groups = [];

    public LoraBatchDelta(LoraSlotBuffers buffers, IReadOnlyList<IReadOnlyList<SlotWeight>> rows, Device device)
    {
        this.buffers = buffers;
        var bySlot = rows.SelectMany((r, i) => r.Select(sw => (sw.Slot, Row: (long)i, sw.Weight))).GroupBy(x => x.Slot);
        foreach (var g in bySlot)
        {
            var members = g.ToArray();
            var everyRow = members.Length == rows.Count && members.All(m => m.Weight == members[0].Weight);
            groups.Add(new Group(
                g.Key,
                everyRow ? null : tensor(members.Select(m => m.Row).ToArray(), dtype: ScalarType.Int64, device: device),
                members.Select(m => m.Weight).ToArray(),
                everyRow));
        }
    }

    public bool IsEmpty => groups.Count == 0;

    public Tensor Apply(LinearSite site, Tensor x, Tensor y)
    {
        foreach (var g in groups)
        {
            if (buffers.Get(g.Slot, site) is not { } m)
            {
                continue;
            }

            using var scope = NewDisposeScope();
            if (g.EveryRow)
            {
                var delta = matmul(matmul(x, m.A.t()), m.B.t()); // [B, T, out]
                y.add_(delta, alpha: m.Scale * g.Weights[0]);
            }
            else
            {
                var xs = x.index_select(0, g.Rows!); // [n, T, in]
                var delta = matmul(matmul(xs, m.A.t()), m.B.t()); // [n, T, out]
                var w = tensor(g.Weights.Select(v => v * m.Scale).ToArray(), dtype: y.dtype, device: y.device).view(-1, 1, 1);
                y.index_add_(0, g.Rows!, delta * w, 1);
            }
        }

        return y;
    }

    private sealed record Group(int Slot, Tensor? Rows, double[] Weights, bool EveryRow);
}
