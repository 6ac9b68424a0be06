using InferenceHost.Adapters;
using InferenceHost.Engine.Sampling;
using InferenceHost.Model;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Engine.Tests;

/// <summary>
/// Base-model conformance against goldens.json (llama2.c run.c and an independent NumPy pass): prompt
/// ids, the greedy continuation and the first step's top-5 logits, alone and in one mixed batch.
/// </summary>
public sealed class BaseGoldenTests : IClassFixture<FixtureModels>
{
    private readonly FixtureModels models;

    public BaseGoldenTests(FixtureModels models) => this.models = models;

    public static TheoryData<string, int> BaseCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var f in TestFixtures.Goldens.Fixtures)
        {
            for (var i = 0; i < f.Cases.Count; i++)
            {
                if (f.Cases[i].Adapter is null)
                {
                    data.Add(f.Model, i);
                }
            }
        }

        return data;
    }

    public static TheoryData<string> FixtureNames()
    {
        var data = new TheoryData<string>();
        foreach (var f in TestFixtures.Goldens.Fixtures)
        {
            data.Add(f.Model);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BaseCases))]
    public async Task Base_case_matches_golden_alone(string fixture, int caseIndex)
    {
        var (f, c) = Golden(fixture, caseIndex);
        var model = models.Get(fixture);
        var prompt = f.Prompts[c.Prompt];
        Assert.Equal(prompt.Ids, model.Tokenizer.Encode(prompt.Text));

        using var engine = Engine(model);
        var result = await engine.Submit(Greedy(prompt.Ids, f.GreedyTokens)).Completion;
        GoldenAssert.Matches(c, result.TokenIds, result.FirstStepTopLogits!);
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public async Task All_base_cases_in_one_batch_match_goldens(string fixture)
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == fixture);
        var model = models.Get(fixture);
        var cases = f.Cases.Where(c => c.Adapter is null).ToList();
        using var engine = Engine(model);
        var handles = cases.Select(c => engine.Submit(Greedy(f.Prompts[c.Prompt].Ids, f.GreedyTokens))).ToList();
        var results = await Task.WhenAll(handles.Select(h => h.Completion));
        for (var i = 0; i < cases.Count; i++)
        {
            GoldenAssert.Matches(cases[i], results[i].TokenIds, results[i].FirstStepTopLogits!);
        }

        Assert.True(engine.Stats.Steps < cases.Count * f.GreedyTokens, "the prompts were not batched together");
    }

    internal static GenerationRequest Greedy(IReadOnlyList<int> ids, int tokens) =>
        new() { PromptIds = ids, Sampling = new SamplingParams { Temperature = 0, MaxTokens = tokens, IgnoreEos = true }, RecordFirstStepTopLogits = true };

    private static InferenceEngine Engine(LoadedModel model) =>
        new(model, new EngineOptions { MaxBatchSize = 8 }, new AdapterRegistry(model.Config, model.Name, 1, 8));

    private static (GoldenFixture, GoldenCase) Golden(string fixture, int caseIndex)
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == fixture);
        return (f, f.Cases[caseIndex]);
    }
}

/// <summary>The fixture models, loaded once per test class (float32 compute).</summary>
public sealed class FixtureModels : IDisposable
{
    private readonly Dictionary<string, LoadedModel> loaded = [];

    public LoadedModel Get(string fixture)
    {
        lock (loaded)
        {
            if (!loaded.TryGetValue(fixture, out var m))
            {
                loaded[fixture] = m = ModelLoader.Load(TestFixtures.ModelDir(fixture));
            }

            return m;
        }
    }

    public void Dispose()
    {
        foreach (var m in loaded.Values)
        {
            m.Dispose();
        }
    }
}
