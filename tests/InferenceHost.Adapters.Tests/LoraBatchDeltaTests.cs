using InferenceHost.Adapters;
using InferenceHost.Adapters.Slots;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Adapters.Tests;

/// <summary>
/// The unmerged kernel's three paths (shared slot, stacked decode, grouped prefill) against the
/// definition y + Σ weight · scale · x·Aᵀ·Bᵀ computed row by row, with slots of different ranks, a slot
/// reused by a smaller adapter, base rows and weighted combinations in one batch.
/// </summary>
public sealed class LoraBatchDeltaTests : IDisposable
{
    private static readonly LinearSite Q0 = new(0, LinearKind.QProj);
    private static readonly LinearSite V1 = new(1, LinearKind.VProj);
    private readonly LlamaForCausalLM model;
    private readonly LoraSlotBuffers buffers;
    private readonly Dictionary<int, LoraAdapter> inSlot = [];

    public LoraBatchDeltaTests()
    {
        manual_seed(7);
        model = new LlamaForCausalLM(SyntheticCheckpoint.Shapes["tiny"], ScalarType.Float32, CPU, 64);
        buffers = new LoraSlotBuffers(model, slots: 4, maxRank: 8, [LinearKind.QProj, LinearKind.VProj]);

        // Slot 2 first holds a rank-8 adapter, then a rank-2 one: the kernel must not see the old rows.
        Load(2, Adapter("big", rank: 8, scale: 1.0, Q0, V1));
        Load(0, Adapter("a", rank: 4, scale: 2.0, Q0, V1));
        Load(1, Adapter("b", rank: 8, scale: 0.5, Q0)); // nothing at V1
        Load(2, Adapter("c", rank: 2, scale: 1.5, Q0, V1));
    }

    public static TheoryData<int> Lengths => new() { 1, 3 };

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Mixed_rows_match_the_definition(int positions)
    {
        IReadOnlyList<IReadOnlyList<SlotWeight>> rows =
        [
            [new SlotWeight(0, 1.0)],
            [],
            [new SlotWeight(1, 1.0)],
            [new SlotWeight(2, 1.0), new SlotWeight(0, 0.25)],
            [new SlotWeight(0, 1.0)],
            [new SlotWeight(2, -0.5)],
        ];
        AssertMatches(rows, positions);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void One_slot_on_every_row_and_one_slot_beside_base_rows_match(int positions)
    {
        AssertMatches([[new SlotWeight(1, 1.0)], [new SlotWeight(1, 1.0)], [new SlotWeight(1, 1.0)]], positions);
        AssertMatches([[new SlotWeight(0, 0.5)], [], [new SlotWeight(0, 0.5)]], positions);
        AssertMatches([[new SlotWeight(0, 1.0)], [new SlotWeight(0, 2.0)]], positions);
    }

    [Fact]
    public void A_site_no_batch_adapter_touches_is_left_alone()
    {
        using var scope = NewDisposeScope();
        var delta = new LoraBatchDelta(buffers, [[new SlotWeight(1, 1.0)], [new SlotWeight(1, 1.0), new SlotWeight(3, 1.0)]], CPU);
        var x = randn(2, 1, 64);
        var y = randn(2, 1, 64);
        var before = y.clone();
        delta.Apply(V1, x, y); // slot 1 has nothing at V1 and slot 3 is empty
        Assert.True(y.eq(before).all().item<bool>());
    }

    public void Dispose()
    {
        buffers.Dispose();
        foreach (var a in inSlot.Values)
        {
            a.Dispose();
        }

        model.Dispose();
    }

    private void AssertMatches(IReadOnlyList<IReadOnlyList<SlotWeight>> rows, int positions)
    {
        using var scope = NewDisposeScope();
        var delta = new LoraBatchDelta(buffers, rows, CPU);
        foreach (var site in new[] { Q0, V1 })
        {
            var linear = model.Linear(site);
            var x = randn(rows.Count, positions, linear.Weight.shape[1]);
            var y = randn(rows.Count, positions, linear.Weight.shape[0]);
            var expected = y.clone();
            for (var i = 0; i < rows.Count; i++)
            {
                foreach (var sw in rows[i])
                {
                    if (inSlot[sw.Slot].Modules.TryGetValue(site, out var m))
                    {
                        expected[i].add_(matmul(matmul(x[i], m.A.t()), m.B.t()), alpha: sw.Weight * m.Scale);
                    }
                }
            }

            var actual = delta.Apply(site, x, y);
            var error = (actual - expected).abs().max().item<float>();
            Assert.True(error < 1e-4, $"{site} with {positions} position(s): max error {error}");
        }
    }

    private void Load(int slot, LoraAdapter adapter)
    {
        inSlot.Remove(slot, out var old);
        old?.Dispose();
        buffers.Load(slot, adapter);
        inSlot[slot] = adapter;
    }

    private LoraAdapter Adapter(string name, int rank, double scale, params LinearSite[] sites)
    {
        var modules = sites.ToDictionary(s => s, s =>
        {
            var w = model.Linear(s).Weight;
            return new LoraModule(randn(rank, w.shape[1]), randn(w.shape[0], rank), rank, scale);
        });
        return new LoraAdapter(name, name, modules, []);
    }
}
