using System.Text.Json;

namespace InferenceHost.Evaluation.Tests;

/// <summary>BLEU against sacreBLEU 2.6.0's figures in the metric goldens (floats to 1e-9, integers exact).</summary>
public class BleuGoldenTests
{
    private const double Tolerance = 1e-9;

    public static TheoryData<string, string> AllCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var set in GoldenFixture.Sets)
            foreach (var c in GoldenFixture.Cases(set))
                data.Add(set, c.GetProperty("id").GetString()!);
        return data;
    }

    public static TheoryData<string> HandmadeCases() =>
        new(GoldenFixture.Cases(GoldenFixture.Handmade).Select(c => c.GetProperty("id").GetString()!));

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Sentence_bleu_matches_golden(string set, string id)
    {
        var c = GoldenFixture.Case(set, id);
        var actual = Bleu.Sentence(GoldenFixture.Prediction(c), GoldenFixture.References(c));
        AssertBleu(c.GetProperty("bleu").GetProperty("sentence"), actual);
    }

    [Theory]
    [MemberData(nameof(HandmadeCases))]
    public void Corpus_of_one_matches_golden(string id)
    {
        var c = GoldenFixture.Case(GoldenFixture.Handmade, id);
        // One reference stream per reference: sacreBLEU's corpus layout for a single segment.
        var streams = GoldenFixture.References(c).Select(r => (IReadOnlyList<string>)[r]).ToList();
        var actual = Bleu.Corpus([GoldenFixture.Prediction(c)], streams);
        AssertBleu(c.GetProperty("bleu").GetProperty("corpus_of_one"), actual);
    }

    [Fact]
    public void DialogSum_corpus_bleu_matches_golden()
    {
        var cases = GoldenFixture.Cases(GoldenFixture.DialogSum).ToList();
        var hypotheses = cases.Select(GoldenFixture.Prediction).ToList();
        var references = cases.Select(c => GoldenFixture.References(c).Single()).ToList();

        var actual = Bleu.Corpus(hypotheses, references);

        var expected = GoldenFixture.Set(GoldenFixture.DialogSum).GetProperty("corpus").GetProperty("bleu");
        AssertBleu(expected, actual);
        Assert.True(Math.Abs(expected.GetProperty("ratio").GetDouble() - actual.Ratio) <= Tolerance,
            $"ratio: expected {expected.GetProperty("ratio").GetDouble():R}, got {actual.Ratio:R}");
    }

    [Fact]
    public void Corpus_rejects_reference_stream_of_wrong_length()
    {
        Assert.Throws<ArgumentException>(() => Bleu.Corpus(["a b c", "d e f"], ["a b c"]));
    }

    private static void AssertBleu(JsonElement expected, BleuScore actual)
    {
        Assert.Equal(GoldenFixture.Ints(expected.GetProperty("counts")), actual.Counts);
        Assert.Equal(GoldenFixture.Ints(expected.GetProperty("totals")), actual.Totals);
        Assert.Equal(expected.GetProperty("sys_len").GetInt32(), actual.SysLen);
        Assert.Equal(expected.GetProperty("ref_len").GetInt32(), actual.RefLen);
        AssertClose("bp", expected.GetProperty("bp").GetDouble(), actual.BrevityPenalty);
        var precisions = GoldenFixture.Doubles(expected.GetProperty("precisions"));
        Assert.Equal(precisions.Count, actual.Precisions.Count);
        for (int n = 0; n < precisions.Count; n++) AssertClose($"precision[{n + 1}]", precisions[n], actual.Precisions[n]);
        AssertClose("score", expected.GetProperty("score").GetDouble(), actual.Score);
    }

    private static void AssertClose(string what, double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= Tolerance, $"{what}: expected {expected:R}, got {actual:R}");
}
