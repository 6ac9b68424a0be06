using InferenceHost.Adapters;
using InferenceHost.Engine.Generation;
using InferenceHost.Engine.Sampling;
using InferenceHost.Model;
using InferenceHost.Model.Llama;
using InferenceHost.Tests.Shared;
using static TorchSharp.torch;

namespace InferenceHost.Engine.Tests;

/// <summary>
/// One bad row never harms its neighbours: a batch that mixes valid requests (the goldens' cases, base and
/// LoRA), a degenerate temperature and an adapter whose delta overflows float32 at run time gives every valid
/// row the tokens it gives alone, and fails only the poisoned row, with a server error naming why.
/// </summary>
public sealed class RowIsolationTests : IClassFixture<FixtureModels>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private readonly FixtureModels models;

    public RowIsolationTests(FixtureModels models) => this.models = models;

    [Theory]
    [InlineData(LoraMode.Unmerged)]
    [InlineData(LoraMode.Auto)]
    public async Task A_poisoned_row_fails_alone_and_its_neighbours_keep_their_solo_tokens(LoraMode mode)
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == "tiny-llama");
        var model = models.Get("tiny-llama");
        var registry = new AdapterRegistry(model.Config, model.Name, 16, 64);
        Assert.Empty(registry.Discover(Path.Combine(TestFixtures.ModelDir("tiny-llama"), "adapters")));
        registry.Register("poison", Poison(model));
        using var engine = new InferenceEngine(model, new EngineOptions { Mode = mode, MaxBatchSize = 16, MaxLoraSlots = 8 }, registry);

        GenerationRequest Greedy(int prompt, string? adapter, double temperature = 0) => new()
        {
            PromptIds = f.Prompts[prompt].Ids,
            Sampling = new SamplingParams { Temperature = temperature, MaxTokens = f.GreedyTokens, IgnoreEos = true },
            Adapters = adapter is null ? [] : [new AdapterRequest(adapter)],
        };

        var tinyTemperatureSolo = await engine.Submit(Greedy(0, null, temperature: 0)).Completion.WaitAsync(Timeout);

        // All at once, so they share steps: the goldens' cases, a temperature of 1e-40, the poisoned adapter twice.
        var valid = f.Cases.Select(c => (Case: c, Handle: engine.Submit(Greedy(c.Prompt, c.Adapter)))).ToList();
        var tiny = engine.Submit(Greedy(0, null, temperature: 1e-40)); // logits / 1e-40 overflow float32: before the guard, multinomial threw and failed the whole batch
        var poisoned = new[] { engine.Submit(Greedy(0, "poison")), engine.Submit(Greedy(1, "poison")) };
        var stepsBefore = engine.Stats.Steps;

        foreach (var (c, h) in valid)
        {
            var r = await h.Completion.WaitAsync(Timeout);
            Assert.True(r.Error is null, $"{c}: {r.Error?.Message}");
            Assert.True(c.Greedy.SequenceEqual(r.TokenIds), $"{c}: other tokens next to a poisoned row");
        }

        Assert.Equal(tinyTemperatureSolo.TokenIds, (await tiny.Completion.WaitAsync(Timeout)).TokenIds); // below 1e-5 is greedy, never NaN
        foreach (var p in poisoned)
        {
            var r = await p.Completion.WaitAsync(Timeout);
            Assert.Equal(FinishReason.Error, r.Finish);
            // Unmerged, the poisoned rows' logits are non-finite at run time. In auto mode, once the poisoned requests are
            // the only ones left (how soon depends on step timing), auto may merge their adapter, and the merge is refused
            // before any weight is touched: also a server-side failure of those rows only, naming why.
            if (mode == LoraMode.Auto && r.Error is AdapterException refused)
            {
                Assert.Contains("non-finite", refused.Message);
                continue;
            }

            var e = Assert.IsType<RequestFailedException>(r.Error);
            Assert.False(e.CausedByRequest);
            Assert.Contains("non-finite", e.Message);
        }

        Assert.True(engine.Stats.Steps - stepsBefore < (valid.Count + 3) * f.GreedyTokens, "the rows did not share steps");
        Assert.All(engine.SlotSnapshot(), s => Assert.Equal(0, s.Pins));

        // The engine goes on serving, the poisoned adapter included (it fails again, alone).
        var after = await engine.Submit(Greedy(f.Cases[0].Prompt, f.Cases[0].Adapter)).Completion.WaitAsync(Timeout);
        Assert.Equal(f.Cases[0].Greedy, after.TokenIds);
    }

    [Fact]
    public async Task Logprobs_zero_top_n_and_prompt_logprobs_are_finite_and_ordered()
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == "tiny-llama");
        var model = models.Get("tiny-llama");
        using var engine = new InferenceEngine(model, new EngineOptions { MaxBatchSize = 4 }, new AdapterRegistry(model.Config, model.Name, 1, 8));
        var prompt = f.Prompts[0].Ids;
        GenerationRequest Request(int? logprobs, bool promptLogprobs = false) => new()
        {
            PromptIds = prompt,
            Sampling = new SamplingParams { Temperature = 0, MaxTokens = 4, IgnoreEos = true, Logprobs = logprobs, PromptLogprobs = promptLogprobs },
        };

        var chosenOnly = engine.Submit(Request(0));
        var top3 = engine.Submit(Request(3, promptLogprobs: true));
        var events = new List<TokenEvent>();
        await foreach (var e in chosenOnly.Tokens.ReadAllAsync())
        {
            events.Add(e);
        }

        Assert.All(events, e => Assert.True(float.IsFinite(e.Logprob) && e.Logprob <= 0 && e.TopLogprobs.Count == 0));
        var r = await top3.Completion.WaitAsync(Timeout);
        Assert.Equal(prompt.Count, r.PromptLogprobs!.Count);
        Assert.Null(r.PromptLogprobs[0].Logprob);
        Assert.Equal(prompt, r.PromptLogprobs.Select(p => p.TokenId));
        Assert.All(r.PromptLogprobs.Skip(1), p => Assert.True(p.Logprob <= 0 && p.TopLogprobs.Count == 3 && p.TopLogprobs[0].Logprob >= p.TopLogprobs[2].Logprob));
    }

    /// <summary>A LoRA on layer 0's o_proj with entries of 1e30: finite in the file, infinite once multiplied (the loader would refuse it).</summary>
    private static LoraAdapter Poison(LoadedModel model)
    {
        var site = new LinearSite(0, LinearKind.OProj);
        var (inF, outF) = model.Config.LinearShape(LinearKind.OProj);
        var module = new LoraModule(full(1, inF, 1e30f), full(outF, 1, 1e30f), 1, 1.0);
        return new LoraAdapter("poison", "(in memory)", new Dictionary<LinearSite, LoraModule> { [site] = module }, []);
    }
}
