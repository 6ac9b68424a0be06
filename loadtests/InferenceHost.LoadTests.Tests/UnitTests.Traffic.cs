using InferenceHost.LoadTests.Cli;
using InferenceHost.LoadTests.Traffic;

namespace InferenceHost.LoadTests.Tests;

public class ArrivalProcessTests
{
    private static double[] Gaps(double rate, double burstiness, int n, int seed = 42)
    {
        var p = new ArrivalProcess(rate, burstiness, new Random(seed));
        return Enumerable.Range(0, n).Select(_ => p.NextGapSeconds()).ToArray();
    }

    private static (double Mean, double Cv) Stats(double[] xs)
    {
        double mean = xs.Average();
        double var = xs.Sum(x => (x - mean) * (x - mean)) / (xs.Length - 1);
        return (mean, Math.Sqrt(var) / mean);
    }

    [Fact]
    public void Poisson_mean_rate_and_cv_match()
    {
        (double mean, double cv) = Stats(Gaps(rate: 20, burstiness: 1, n: 20_000));
        Assert.InRange(1 / mean, 19.4, 20.6); // within 3%
        Assert.InRange(cv, 0.96, 1.04); // exponential gaps: CV = 1
    }

    [Theory]
    [InlineData(0.25)] // bursty: CV = 2
    [InlineData(4.0)] // smooth: CV = 0.5
    public void Gamma_burstiness_keeps_the_rate_and_sets_cv(double burstiness)
    {
        (double mean, double cv) = Stats(Gaps(rate: 10, burstiness, n: 40_000));
        Assert.InRange(1 / mean, 9.6, 10.4);
        double expectedCv = 1 / Math.Sqrt(burstiness);
        Assert.InRange(cv, expectedCv * 0.94, expectedCv * 1.06);
    }

    [Fact]
    public void Same_seed_same_arrivals_and_infinite_rate_sends_at_once()
    {
        Assert.Equal(Gaps(5, 1, 100, seed: 7), Gaps(5, 1, 100, seed: 7));
        Assert.All(new ArrivalProcess(double.PositiveInfinity, 1, new Random(1)).Offsets(10), t => Assert.Equal(0, t));
    }
}

public class AdapterPickerTests
{
    private static Dictionary<string, int> Counts(Popularity popularity, int n, int draws, double exponent = 1.0, double baseFraction = 0)
    {
        var names = Enumerable.Range(0, n).Select(i => $"adapter-{i}").ToList();
        var picker = new AdapterPicker(names, popularity, exponent, baseFraction, new Random(3));
        return Enumerable.Range(0, draws).Select(_ => picker.Next() ?? "base").GroupBy(x => x).ToDictionary(g => g.Key, g => g.Count());
    }

    [Fact]
    public void Single_always_the_first()
        => Assert.Equal(new Dictionary<string, int> { ["adapter-0"] = 1000 }, Counts(Popularity.Single, 8, 1000));

    [Fact]
    public void Uniform_is_flat()
    {
        var counts = Counts(Popularity.Uniform, 8, 40_000);
        Assert.Equal(8, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 5000 * 0.94, 5000 * 1.06));
    }

    [Fact]
    public void Skewed_follows_zipf()
    {
        const int draws = 60_000;
        var counts = Counts(Popularity.Skewed, 8, draws, exponent: 1.2);
        double[] cdf = AdapterPicker.ZipfCdf(8, 1.2);
        for (int i = 0; i < 8; i++)
        {
            double expected = (cdf[i] - (i == 0 ? 0 : cdf[i - 1])) * draws;
            Assert.InRange(counts.GetValueOrDefault($"adapter-{i}"), expected * 0.92, expected * 1.08);
        }
        Assert.True(counts["adapter-0"] > 2 * counts["adapter-1"]); // 2^1.2 ≈ 2.3
    }

    [Fact]
    public void Distinct_cycles_so_neighbours_differ()
    {
        var picker = new AdapterPicker(["a", "b", "c"], Popularity.Distinct, 1, 0, new Random(1));
        Assert.Equal(["a", "b", "c", "a", "b", "c", "a"], Enumerable.Range(0, 7).Select(_ => picker.Next()!).ToArray());
    }

    [Fact]
    public void Base_fraction_mixes_in_base_model_requests()
    {
        var counts = Counts(Popularity.Uniform, 4, 20_000, baseFraction: 0.25);
        Assert.InRange(counts["base"], 5000 * 0.94, 5000 * 1.06);
    }

    [Fact]
    public void Generator_is_seeded_and_builds_lora_plus_soft_combinations()
    {
        var o = RunOptions.Parse(LoadToolCli.ParseRunOptions(["--url", "http://127.0.0.1:1", "--adapters", "4", "--adapter-kind", "lora-soft",
            "--soft-prompts", "2", "--adapter-prefix", "lora-", "--output-len", "4-9", "--prompt-len", "3"]));
        var a = new RequestGenerator(o);
        var b = new RequestGenerator(o);
        for (int i = 0; i < 50; i++)
        {
            RequestSpec x = a.Next(), y = b.Next();
            Assert.Equal((x.Model, x.Label, x.Prompt, x.MaxTokens), (y.Model, y.Label, y.Prompt, y.MaxTokens));
            Assert.InRange(x.MaxTokens, 4, 9);
            Assert.Equal(3, x.Prompt.Split(' ').Length);
            Assert.StartsWith("lora-", x.Adapters![0].Name);
            Assert.Equal(1.0, x.Adapters[0].Weight);
            Assert.StartsWith("soft-", x.Adapters[1].Name);
            Assert.Null(x.Adapters[1].Weight);
        }
    }

    [Fact]
    public void Shared_dialogsum_validation_file_loads_when_present()
    {
        string path = Path.Combine(OptionTests.RepoRoot(), "..", "shared", "data", "dialogsum", "validation.jsonl");
        if (!File.Exists(path))
            return; // shared/ is not part of every checkout
        IReadOnlyList<string> dialogues = PromptFactory.LoadDialogSum(path);
        Assert.True(dialogues.Count > 100);
        Assert.All(dialogues.Take(20), d => Assert.Contains("#Person1#", d));
    }

    [Fact]
    public void DialogSum_prompt_is_templated_and_truncated()
    {
        string p = PromptFactory.DialogSumPrompt("#Person1#: Hi.\n#Person2#: Hello.", 1000);
        Assert.Equal("Summarize the following conversation.\n\n#Person1#: Hi.\n#Person2#: Hello.\n\nSummary:", p);
        Assert.Equal(20, PromptFactory.DialogSumPrompt(new string('x', 500), 20).Length);
    }
}
