using InferenceHost.LoadTests.Cli;
using InferenceHost.LoadTests.Scenarios;

namespace InferenceHost.LoadTests.Tests;

public class LoopbackGuardTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8000")]
    [InlineData("http://127.5.6.7:1/")]
    [InlineData("http://localhost:8000")]
    [InlineData("http://LOCALHOST")]
    [InlineData("http://[::1]:8000")]
    [InlineData("http://[::ffff:127.0.0.1]:80")]
    public void Loopback_targets_are_accepted(string url) => Assert.NotNull(LoopbackGuard.Validate(url));

    [Fact]
    public void Base_url_keeps_its_path_prefix()
    {
        Assert.Equal("http://127.0.0.1:8000/v1/completions", new Uri(LoopbackGuard.Validate("http://127.0.0.1:8000"), "v1/completions").ToString());
        Assert.Equal("http://localhost:8000/api/v1/completions", new Uri(LoopbackGuard.Validate("http://localhost:8000/api"), "v1/completions").ToString());
    }

    [Theory]
    [InlineData("http://10.0.0.5:8000")]
    [InlineData("http://192.168.1.10")]
    [InlineData("http://8.8.8.8")]
    [InlineData("http://example.com")]
    [InlineData("http://localhost.example.com")]
    [InlineData("http://[::2]:8000")]
    [InlineData("http://0.0.0.0:8000")]
    public void Other_targets_are_refused_with_a_clear_message(string url)
    {
        var e = Assert.Throws<OptionException>(() => LoopbackGuard.Validate(url));
        Assert.Contains("only sends traffic to loopback", e.Message);
    }

    [Fact]
    public async Task Run_command_refuses_before_sending_anything()
    {
        var err = new StringWriter();
        int rc = await Program.RunAsync(["run", "--url", "http://192.168.0.2:8000"], TextWriter.Null, err, default);
        Assert.Equal(2, rc);
        Assert.Contains("Refusing to target '192.168.0.2'", err.ToString());
    }
}

public class OptionTests
{
    private static string Error(params string[] args)
    {
        var err = new StringWriter();
        int rc = Program.RunAsync(args, TextWriter.Null, err, default).GetAwaiter().GetResult();
        Assert.Equal(2, rc);
        return err.ToString();
    }

    [Fact]
    public void Bad_options_give_clear_errors()
    {
        Assert.Contains("Give a target", Error("run"));
        Assert.Contains("--popularity 'zipfy' is not one of: single, uniform, skewed, distinct", Error("run", "--url", "http://127.0.0.1:1", "--popularity", "zipfy"));
        Assert.Contains("--concurrency 'many' is not a whole number", Error("run", "--url", "http://127.0.0.1:1", "--concurrency", "many"));
        Assert.Contains("Unrecognized command or argument '--concurency'", Error("run", "--url", "http://127.0.0.1:1", "--concurency", "8")); // System.CommandLine's wording
        Assert.Contains("--output-len '9-3' must be N or MIN-MAX", Error("run", "--url", "http://127.0.0.1:1", "--output-len", "9-3"));
        Assert.Contains("Unrecognized command or argument 'go'", Error("go"));
        Assert.Contains("--dataset 'nope.jsonl' does not exist", Error("run", "--url", "http://127.0.0.1:1", "--prompts", "dialogsum", "--dataset", "nope.jsonl", "--requests", "1"));
    }

    [Fact]
    public async Task Help_is_generated_from_the_declared_options()
    {
        var stdout = new StringWriter();
        Assert.Equal(0, await Program.RunAsync(["run", "--help"], stdout, TextWriter.Null, default));
        Assert.Contains("--zipf-exponent", stdout.ToString());
        Assert.Contains("--honor-retry-after", stdout.ToString());
        Assert.Contains("Goodput SLO on time to first token", stdout.ToString());
    }

    [Fact]
    public void Shipped_scenarios_parse_and_expand()
    {
        string dir = Path.Combine(RepoRoot(), "loadtests", "scenarios");
        ScenarioFile modes = ScenarioFile.Load(Path.Combine(dir, "lora-modes.json"));
        var runs = modes.Runs.Select(b => RunOptions.Parse(b, requireTarget: false)).ToList();
        foreach (string mode in new[] { "unmerged", "merged", "auto" })
            foreach (int n in new[] { 1, 2, 8, 32 })
                foreach (var pop in new[] { Popularity.Uniform, Popularity.Skewed })
                    Assert.Contains(runs, r => r.LoraMode == mode && r.Adapters == n && r.Popularity == pop && r.AdapterKind == AdapterKind.Lora);
        Assert.Contains(runs, r => r.AdapterKind == AdapterKind.Soft);
        Assert.Contains(runs, r => r.AdapterKind == AdapterKind.LoraSoft);
        Assert.All(runs, r => Assert.True(r.StartServer));
        Assert.Equal(runs.Count, runs.Select(r => r.Name).Distinct().Count());

        ScenarioFile smoke = ScenarioFile.Load(Path.Combine(dir, "smoke.json"));
        Assert.All(smoke.Runs.Select(b => RunOptions.Parse(b, requireTarget: false)), r => Assert.True(r.DurationSeconds <= 30));
    }

    [Fact]
    public void Matrix_expands_in_order_with_names()
    {
        var file = ScenarioFile.Parse("""
            {"defaults": {"requests": 5, "url": "http://127.0.0.1:9"},
             "runs": [{"name": "lora", "matrix": {"lora-mode": ["merged", "unmerged"], "adapters": [1, 8]}},
                      {"name": "soft", "adapter-kind": "soft", "soft-prompts": 2, "requests": 7}]}
            """, "x");
        Assert.Equal(["lora-merged-n1", "lora-merged-n8", "lora-unmerged-n1", "lora-unmerged-n8", "soft"],
            file.Runs.Select(r => r.Values["name"]).ToArray());
        Assert.Equal("7", file.Runs[^1].Values["requests"]);
        Assert.Equal("5", file.Runs[0].Values["requests"]);
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "InferenceHost.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("InferenceHost.sln not found above the test binaries.");
    }
}
