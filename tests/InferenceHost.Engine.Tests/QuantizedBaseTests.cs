using InferenceHost.Adapters;
using InferenceHost.Engine.Generation;
using InferenceHost.Engine.Sampling;
using InferenceHost.Model;
using InferenceHost.Model.Quantization;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Engine.Tests;

/// <summary>
/// LoRA on a quantized base (QLoRA serving): unmerged adapters work alone and in mixed batches, auto mode stays
/// unmerged however dominant one adapter is, and merged mode is refused naming both settings.
/// </summary>
public sealed class QuantizedBaseTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData("int8")]
    [InlineData("nf4")]
    public async Task Unmerged_loras_on_a_quantized_base_give_the_same_tokens_alone_and_in_a_mixed_batch_and_auto_never_merges(string format)
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == "tiny-llama");
        using var model = ModelLoader.Load(TestFixtures.ModelDir("tiny-llama"), new ModelLoadOptions { Quantization = WeightQuantizationNames.Parse(format) });
        var registry = new AdapterRegistry(model.Config, model.Name, 16, 64);
        Assert.Empty(registry.Discover(Path.Combine(TestFixtures.ModelDir("tiny-llama"), "adapters")));
        var policy = new AutoModePolicy { Window = 8, MinSamples = 4, MinDwell = TimeSpan.Zero };
        using var engine = new InferenceEngine(model, new EngineOptions { Mode = LoraMode.Auto, MaxBatchSize = 16, MaxLoraSlots = 8, Auto = policy }, registry);
        GenerationRequest Greedy(GoldenCase c) => new()
        {
            PromptIds = f.Prompts[c.Prompt].Ids,
            Sampling = new SamplingParams { Temperature = 0, MaxTokens = f.GreedyTokens, IgnoreEos = true },
            Adapters = c.Adapter is null ? [] : [new AdapterRequest(c.Adapter)],
        };

        var solo = new Dictionary<GoldenCase, IReadOnlyList<int>>();
        foreach (var c in f.Cases)
        {
            var r = await engine.Submit(Greedy(c)).Completion.WaitAsync(Timeout);
            Assert.True(r.Error is null, $"{c}: {r.Error?.Message}");
            solo[c] = r.TokenIds;
        }

        // A LoRA changes what the quantized base says (the delta is applied on top of it, not lost).
        Assert.Contains(f.Cases.Where(c => c.Adapter is not null), c => !solo[c].SequenceEqual(solo[f.Cases.First(b => b.Adapter is null && b.Prompt == c.Prompt)]));

        var together = f.Cases.Select(c => (c, engine.Submit(Greedy(c)))).ToList();
        foreach (var (c, h) in together)
        {
            var r = await h.Completion.WaitAsync(Timeout);
            Assert.True(solo[c].SequenceEqual(r.TokenIds), $"{c}: other tokens in a mixed batch on the {format} base");
        }

        // One adapter for everything: auto mode would merge on a dense base.
        var qv = f.Cases.First(c => c.Adapter == "lora-qv");
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(solo[qv], (await engine.Submit(Greedy(qv)).Completion.WaitAsync(Timeout)).TokenIds);
        }

        Assert.Equal("unmerged", engine.Mode.Effective);
        Assert.Empty(engine.ModeHistory);
    }

    [Fact]
    public void Merged_mode_on_a_quantized_base_is_refused_naming_both_settings()
    {
        using var model = ModelLoader.Load(TestFixtures.ModelDir("tiny-llama"), new ModelLoadOptions { Quantization = WeightQuantization.Int8 });
        var registry = new AdapterRegistry(model.Config, model.Name, 16, 64);
        var e = Assert.Throws<ArgumentException>(() => new InferenceEngine(model, new EngineOptions { Mode = LoraMode.Merged }, registry));
        Assert.Contains("Lora:Mode: merged mode needs dense base weights", e.Message);
        Assert.Contains("Model:Quantization is 'int8'", e.Message);
    }
}
