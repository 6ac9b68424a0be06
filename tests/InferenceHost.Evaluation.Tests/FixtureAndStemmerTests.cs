namespace InferenceHost.Evaluation.Tests;

/// <summary>Guards that the golden theories really run over every case, plus the stemmer's reference examples.</summary>
public class FixtureAndStemmerTests
{
    [Fact]
    public void Fixture_has_the_documented_format_and_case_counts()
    {
        Assert.Equal("metric-goldens/1", GoldenFixture.Root.GetProperty("format").GetString());
        int total = 0;
        foreach (var set in GoldenFixture.Sets)
        {
            int declared = GoldenFixture.Set(set).GetProperty("count").GetInt32();
            Assert.True(declared > 0, $"set {set} declares no cases");
            Assert.Equal(declared, GoldenFixture.Cases(set).Count());
            total += declared;
        }
        Assert.Equal(25, GoldenFixture.Set(GoldenFixture.Handmade).GetProperty("count").GetInt32());
        Assert.Equal(200, GoldenFixture.Set(GoldenFixture.DialogSum).GetProperty("count").GetInt32());
        Assert.Equal(total * GoldenFixture.Variants.Length, RougeGoldenTests.AllCases().Count());
        Assert.Equal(total, BleuGoldenTests.AllCases().Count());
    }

    [Fact]
    public void Fixture_settings_are_the_ones_this_library_implements()
    {
        var settings = GoldenFixture.Root.GetProperty("settings");
        var rouge = settings.GetProperty("rouge");
        Assert.False(rouge.GetProperty("split_summaries").GetBoolean());
        Assert.Equal(RougeTypes.All, GoldenFixture.Strings(rouge.GetProperty("rouge_types")));
        var bleu = settings.GetProperty("bleu");
        Assert.Equal("13a", bleu.GetProperty("tokenize").GetString());
        Assert.False(bleu.GetProperty("lowercase").GetBoolean());
        Assert.Equal("exp", bleu.GetProperty("smooth_method").GetString());
        Assert.Equal(Bleu.MaxNgramOrder, bleu.GetProperty("max_ngram_order").GetInt32());
    }

    /// <summary>The example in NLTK's own PorterStemmer documentation (default NLTK_EXTENSIONS mode).</summary>
    [Fact]
    public void Stemmer_reproduces_the_NLTK_documentation_example()
    {
        string[] plurals =
        [
            "caresses", "flies", "dies", "mules", "denied", "died", "agreed", "owned", "humbled", "sized",
            "meeting", "stating", "siezing", "itemization", "sensational", "traditional", "reference",
            "colonizer", "plotted",
        ];
        const string nltkOutput =
            "caress fli die mule deni die agre own humbl size meet state siez item sensat tradit refer colon plot";
        Assert.Equal(nltkOutput, string.Join(' ', plurals.Select(PorterStemmer.Stem)));
    }
}
