using InferenceHost.Adapters.Slots;
using InferenceHost.Model;
using InferenceHost.Model.Kernels;
using InferenceHost.Model.Llama;
using InferenceHost.Model.Quantization;
using InferenceHost.Tests.Shared;
using static TorchSharp.torch;

namespace InferenceHost.Adapters.Tests;

/// <summary>Tests that read <see cref="ProductClock"/>, a process-wide counter: alone, after the parallel ones.</summary>
[CollectionDefinition(nameof(ProductClockCollection), DisableParallelization = true)]
public sealed class ProductClockCollection;

/// <summary>
/// The fused q/k/v and gate/up hand-offs (<see cref="LinearOptions.FuseProjections"/>) against one hand-off per
/// module, on the fixture model loaded twice with the same weights: the logits are bit for bit the same in every
/// format, with no adapter, with LoRA on every fused module (mixed rows: two adapters and the base), and in merged
/// mode after a merge and after the restore — the fused products read each module's own weight, so a merge
/// written into q_proj is what they see. The hand-off count proves the fused path ran where the kernels take
/// the product (rows up to <see cref="DecodeProducts.MaxRows"/>).
/// </summary>
[Collection(nameof(ProductClockCollection))]
public sealed class FusedProjectionTests
{
    private static readonly LinearKind[] Fused = [LinearKind.QProj, LinearKind.KProj, LinearKind.VProj, LinearKind.GateProj, LinearKind.UpProj];

    public static TheoryData<string, string, int> Formats()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var (dtype, quantization) in new[] { ("float32", "none"), ("bfloat16", "none"), ("float32", "int8"), ("bfloat16", "int8"), ("float32", "nf4") })
        {
            foreach (var rows in new[] { 1, 8 })
            {
                data.Add(dtype, quantization, rows);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Fused_and_unfused_give_the_same_logits_with_and_without_lora(string dtype, string quantization, int rows)
    {
        using var fused = Load(dtype, quantization, fuse: true);
        using var unfused = Load(dtype, quantization, fuse: false);
        using var scope = NewDisposeScope();
        manual_seed(21);
        var ids = randint(3, fused.Config.VocabSize, [rows, 1]); // one new token per row: a decode step's shape
        var a = Adapter(fused, "a", rank: 4, scale: 2.0);
        var b = Adapter(fused, "b", rank: 8, scale: 0.5);
        using var fusedSlots = Slots(fused, a, b);
        using var unfusedSlots = Slots(unfused, a, b);
        IReadOnlyList<IReadOnlyList<SlotWeight>> slotRows = Enumerable.Range(0, rows)
            .Select(i => (IReadOnlyList<SlotWeight>)(i % 3 == 2 ? [] : [new SlotWeight(i % 3, 1.0)])).ToArray();

        var (baseFused, fusedCalls) = Logits(fused, ids, null);
        var (baseUnfused, unfusedCalls) = Logits(unfused, ids, null);
        var (loraFused, _) = Logits(fused, ids, new LoraBatchDelta(fusedSlots, slotRows, CPU));
        var (loraUnfused, _) = Logits(unfused, ids, new LoraBatchDelta(unfusedSlots, slotRows, CPU));

        Assert.True(Same(baseFused, baseUnfused), "base logits differ");
        Assert.True(Same(loraFused, loraUnfused), "LoRA logits differ");
        Assert.False(Same(loraFused, baseFused), "the adapters changed nothing: the test would not see a lost delta");
        var layers = fused.Config.NumHiddenLayers;
        var format = fused.Model.Linears[0].Quantized?.KernelFormat ?? DecodeProducts.DenseFormat(fused.Model.DType)!.Value;
        Assert.Equal((7 * layers) + 1, unfusedCalls); // seven modules a layer, and the head
        Assert.Equal(rows <= DecodeProducts.MaxRows(format) ? (4 * layers) + 1 : unfusedCalls, fusedCalls); // q/k/v and gate/up as one each

        foreach (var adapter in new[] { a, b })
        {
            adapter.Dispose();
        }
    }

    [Theory]
    [InlineData("float32", 1)]
    [InlineData("float32", 8)]
    [InlineData("bfloat16", 1)]
    public void Merged_mode_reads_the_merged_weights_and_the_restored_ones(string dtype, int rows)
    {
        using var fused = Load(dtype, "none", fuse: true);
        using var unfused = Load(dtype, "none", fuse: false);
        using var scope = NewDisposeScope();
        manual_seed(22);
        var ids = randint(3, fused.Config.VocabSize, [rows, 1]);
        using var adapter = Adapter(fused, "m", rank: 8, scale: 1.0);
        using var fusedMerger = new WeightMerger(fused.Model);
        using var unfusedMerger = new WeightMerger(unfused.Model);
        var (before, _) = Logits(fused, ids, null);

        fusedMerger.Merge([new LoraUse(adapter, 1.0)]);
        unfusedMerger.Merge([new LoraUse(adapter, 1.0)]);
        var (mergedFused, _) = Logits(fused, ids, null);
        var (mergedUnfused, _) = Logits(unfused, ids, null);
        Assert.True(Same(mergedFused, mergedUnfused), "merged logits differ between fused and unfused");
        Assert.False(Same(mergedFused, before), "the fused products did not see the merge");

        fusedMerger.Restore();
        var (restored, _) = Logits(fused, ids, null);
        Assert.True(Same(restored, before), "after the restore the fused logits are not the base's");
    }

    private static bool Same(Tensor a, Tensor b) => a.equal(b).all().item<bool>();

    private static LoadedModel Load(string dtype, string quantization, bool fuse) =>
        ModelLoader.Load(TestFixtures.ModelDir("tiny-llama"), new ModelLoadOptions
        {
            DType = dtype == "bfloat16" ? ScalarType.BFloat16 : ScalarType.Float32,
            Quantization = WeightQuantizationNames.Parse(quantization),
            FuseProjections = fuse,
        });

    /// <summary>Last-position logits of one forward without a cache, and the product calls it made.</summary>
    private static (Tensor Logits, long Calls) Logits(LoadedModel model, Tensor ids, ILinearDelta? delta)
    {
        using var noGrad = no_grad();
        var n = ids.shape[0];
        ProductClock.Take();
        ProductClock.Enabled = true;
        try
        {
            var logits = model.Model.Forward(new ForwardBatch
            {
                Embeddings = model.Model.Embed(ids),
                Starts = new long[n],
                Lengths = Enumerable.Repeat(1L, (int)n).ToArray(),
                Delta = delta,
            });
            return (logits, ProductClock.Take().Calls);
        }
        finally
        {
            ProductClock.Enabled = false;
        }
    }

    /// <summary>Random LoRA factors (B not zero, so the delta shows) on every module the fused products cover, in the model's compute dtype.</summary>
    private static LoraAdapter Adapter(LoadedModel model, string name, int rank, double scale)
    {
        var modules = new Dictionary<LinearSite, LoraModule>();
        for (var layer = 0; layer < model.Config.NumHiddenLayers; layer++)
        {
            foreach (var kind in Fused)
            {
                var (inF, outF) = model.Config.LinearShape(kind);
                modules[new LinearSite(layer, kind)] = new LoraModule(randn(rank, inF) * 0.1, randn(outF, rank) * 0.1, rank, scale);
            }
        }

        return new LoraAdapter(name, name, modules, []);
    }

    private static LoraSlotBuffers Slots(LoadedModel model, params LoraAdapter[] adapters)
    {
        var buffers = new LoraSlotBuffers(model.Model, slots: adapters.Length, maxRank: 8, Fused);
        for (var i = 0; i < adapters.Length; i++)
        {
            buffers.Load(i, adapters[i]);
        }

        return buffers;
    }
}
