using System.Text.Json;

namespace InferenceHost.Evaluation.Tests;

/// <summary>ROUGE against rouge_score 0.1.2's figures in the metric goldens (to 1e-12).</summary>
public class RougeGoldenTests
{
    private const double Tolerance = 1e-12;

    public static TheoryData<string, string, string> AllCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var set in GoldenFixture.Sets)
            foreach (var c in GoldenFixture.Cases(set))
                foreach (var variant in GoldenFixture.Variants)
                    data.Add(set, c.GetProperty("id").GetString()!, variant);
        return data;
    }

    public static TheoryData<string, string> HandmadeCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in GoldenFixture.Cases(GoldenFixture.Handmade))
            foreach (var variant in GoldenFixture.Variants)
                data.Add(c.GetProperty("id").GetString()!, variant);
        return data;
    }

    public static TheoryData<string> Variants() => new(GoldenFixture.Variants);

    private static RougeScorer ScorerFor(string variant) => variant switch
    {
        "no_stem" => new RougeScorer(useStemmer: false),
        "stem" => new RougeScorer(useStemmer: true),
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "unknown variant"),
    };

    [Theory]
    [MemberData(nameof(AllCases))]
    public void ScoreMulti_matches_golden(string set, string id, string variant)
    {
        var c = GoldenFixture.Case(set, id);
        var expected = c.GetProperty("rouge").GetProperty(variant);
        var scorer = ScorerFor(variant);
        var references = GoldenFixture.References(c);

        var actual = scorer.ScoreMulti(GoldenFixture.Prediction(c), references);
        AssertScores(expected, actual);

        // With one reference, score_multi is score() (the goldens say so); check the single-reference API too.
        if (references.Count == 1)
            AssertScores(expected, scorer.Score(GoldenFixture.Prediction(c), references[0]));
    }

    [Theory]
    [MemberData(nameof(HandmadeCases))]
    public void Tokens_match_golden(string id, string variant)
    {
        var c = GoldenFixture.Case(GoldenFixture.Handmade, id);
        var expected = c.GetProperty("rouge_tokens").GetProperty(variant);
        var tokenizer = ScorerFor(variant).Tokenizer;

        Assert.Equal(GoldenFixture.Strings(expected.GetProperty("prediction")), tokenizer.Tokenize(GoldenFixture.Prediction(c)));
        var expectedRefs = expected.GetProperty("references").EnumerateArray().Select(GoldenFixture.Strings).ToList();
        var references = GoldenFixture.References(c);
        Assert.Equal(expectedRefs.Count, references.Count);
        for (int i = 0; i < references.Count; i++)
            Assert.Equal(expectedRefs[i], tokenizer.Tokenize(references[i]));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void DialogSum_corpus_mean_matches_golden(string variant)
    {
        var scorer = ScorerFor(variant);
        var aggregator = new RougeAggregator();
        foreach (var c in GoldenFixture.Cases(GoldenFixture.DialogSum))
            aggregator.Add(scorer.ScoreMulti(GoldenFixture.Prediction(c), GoldenFixture.References(c)));

        var expected = GoldenFixture.Set(GoldenFixture.DialogSum).GetProperty("corpus").GetProperty("rouge_mean").GetProperty(variant);
        foreach (var type in RougeTypes.All) Assert.Equal(200, aggregator.Count(type));
        AssertScores(expected, aggregator.Mean());
    }

    private static void AssertScores(JsonElement expected, IReadOnlyDictionary<string, Score> actual)
    {
        var expectedTypes = expected.EnumerateObject().Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal);
        Assert.Equal(expectedTypes, actual.Keys.OrderBy(n => n, StringComparer.Ordinal));
        foreach (var type in RougeTypes.All)
        {
            var e = expected.GetProperty(type);
            var a = actual[type];
            Assert.True(Math.Abs(e.GetProperty("precision").GetDouble() - a.Precision) <= Tolerance,
                $"{type} precision: expected {e.GetProperty("precision").GetDouble():R}, got {a.Precision:R}");
            Assert.True(Math.Abs(e.GetProperty("recall").GetDouble() - a.Recall) <= Tolerance,
                $"{type} recall: expected {e.GetProperty("recall").GetDouble():R}, got {a.Recall:R}");
            Assert.True(Math.Abs(e.GetProperty("fmeasure").GetDouble() - a.FMeasure) <= Tolerance,
                $"{type} fmeasure: expected {e.GetProperty("fmeasure").GetDouble():R}, got {a.FMeasure:R}");
        }
    }
}
