using InferenceHost.Adapters;
using InferenceHost.Engine;
using InferenceHost.Engine.Sampling;
using InferenceHost.Model;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Adapters.Tests;

/// <summary>
/// Every case of goldens.json (adapter and base) through the engine, in each LoRA mode: one request at
/// a time, and all at once so rows with different adapters (or none) share batches.
/// </summary>
public sealed class AdapterGoldenTests : IClassFixture<AdapterGoldenTests.Models>
{
    private readonly Models models;

    public AdapterGoldenTests(Models models) => this.models = models;

    public static TheoryData<string, LoraMode> FixturesAndModes()
    {
        var data = new TheoryData<string, LoraMode>();
        foreach (var f in TestFixtures.Goldens.Fixtures.Where(f => f.Cases.Any(c => c.Adapter is not null)))
        {
            foreach (var mode in Enum.GetValues<LoraMode>())
            {
                data.Add(f.Model, mode);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FixturesAndModes))]
    public async Task Every_case_matches_alone(string fixture, LoraMode mode)
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == fixture);
        using var engine = models.Engine(fixture, mode);
        foreach (var c in f.Cases)
        {
            var result = await engine.Submit(Request(f, c)).Completion;
            GoldenAssert.Matches(c, result.TokenIds, result.FirstStepTopLogits!);
        }
    }

    [Theory]
    [MemberData(nameof(FixturesAndModes))]
    public async Task Every_case_matches_in_a_mixed_batch(string fixture, LoraMode mode)
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == fixture);
        using var engine = models.Engine(fixture, mode);
        var handles = f.Cases.Select(c => engine.Submit(Request(f, c))).ToList();
        var results = await Task.WhenAll(handles.Select(h => h.Completion));
        for (var i = 0; i < f.Cases.Count; i++)
        {
            GoldenAssert.Matches(f.Cases[i], results[i].TokenIds, results[i].FirstStepTopLogits!);
        }

        if (mode == LoraMode.Unmerged)
        {
            Assert.True(engine.Stats.Steps < f.Cases.Count * f.GreedyTokens, "requests were not batched together");
        }
    }

    internal static GenerationRequest Request(GoldenFixture f, GoldenCase c) => new()
    {
        PromptIds = f.Prompts[c.Prompt].Ids,
        Sampling = new SamplingParams { Temperature = 0, MaxTokens = f.GreedyTokens, IgnoreEos = true },
        Adapters = c.Adapter is null ? [] : [new AdapterRequest(c.Adapter)],
        RecordFirstStepTopLogits = true,
    };

    /// <summary>Fixture models loaded once; each test builds its own engine (and so its own merge state).</summary>
    public sealed class Models : IDisposable
    {
        private readonly Dictionary<string, LoadedModel> loaded = [];

        public InferenceEngine Engine(string fixture, LoraMode mode)
        {
            LoadedModel model;
            lock (loaded)
            {
                if (!loaded.TryGetValue(fixture, out model!))
                {
                    loaded[fixture] = model = ModelLoader.Load(TestFixtures.ModelDir(fixture));
                }
            }

            var options = new EngineOptions { Mode = mode, MaxBatchSize = 32, Auto = new AutoModePolicy { MinSamples = 4, MinDwell = TimeSpan.Zero } };
            var registry = new AdapterRegistry(model.Config, model.Name, capacity: 16, maxRank: options.MaxLoraRank);
            var errors = registry.Discover(Path.Combine(TestFixtures.ModelDir(fixture), "adapters"));
            Assert.Empty(errors);
            return new InferenceEngine(model, options, registry);
        }

        public void Dispose()
        {
            foreach (var m in loaded.Values)
            {
                m.Dispose();
            }
        }
    }
}
