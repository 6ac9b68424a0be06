using InferenceHost.Engine.Generation;
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
    public void Base_case_matches_golden_alone(string fixture, int caseIndex)
    {
        var (f, c) = Golden(fixture, caseIndex);
        var model = models.Get(fixture);
        var prompt = f.Prompts[c.Prompt];
        Assert.Equal(prompt.Ids, model.Tokenizer.Encode(prompt.Text));

        using var seq = Greedy(model, prompt.Ids, f.GreedyTokens);
        new Generator(model).Run([seq]);
        GoldenAssert.Matches(c, seq);
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void All_base_cases_in_one_batch_match_goldens(string fixture)
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == fixture);
        var model = models.Get(fixture);
        var cases = f.Cases.Where(c => c.Adapter is null).ToList();
        var seqs = cases.Select((c, i) => Greedy(model, f.Prompts[c.Prompt].Ids, f.GreedyTokens, i)).ToList();
        try
        {
            new Generator(model).Run(seqs);
            for (var i = 0; i < cases.Count; i++)
            {
                GoldenAssert.Matches(cases[i], seqs[i]);
            }
        }
        finally
        {
            seqs.ForEach(s => s.Dispose());
        }
    }

    internal static Sequence Greedy(LoadedModel model, IReadOnlyList<int> ids, int tokens, long id = 0) =>
        new(id, ids, new SamplingParams { Temperature = 0, MaxTokens = tokens, IgnoreEos = true }, model.Tokenizer, model.EosIds);

    private static (GoldenFixture, GoldenCase) Golden(string fixture, int caseIndex)
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == fixture);
        return (f, f.Cases[caseIndex]);
    }
}

internal static class GoldenAssert
{
    public const double LogitTolerance = 1e-3;

    public static void Matches(GoldenCase expected, Sequence actual)
    {
        Assert.Equal(expected.Greedy, actual.Generated);
        var top = actual.FirstStepTopLogits!;
        for (var i = 0; i < expected.Top5.Count; i++)
        {
            Assert.Equal((int)expected.Top5[i][0], top[i].Id);
            var diff = Math.Abs(expected.Top5[i][1] - top[i].Logit);
            Assert.True(diff <= LogitTolerance, $"{expected}: top-{i + 1} logit {top[i].Logit} vs golden {expected.Top5[i][1]} (|diff| {diff:g3} > {LogitTolerance})");
        }
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
