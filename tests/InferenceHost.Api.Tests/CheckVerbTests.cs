using System.Text.Json;
using InferenceHost.Adapters;
using InferenceHost.Adapters.Peft;
using InferenceHost.Tools.Checks;
using InferenceHost.CommandLine;
using InferenceHost.Model;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Api.Tests;

/// <summary>
/// The verbs the GPU bring-up run uses (docs/gpu-bringup.md), checked on the CPU against the goldens: the logits the
/// <c>logits</c> verb writes for Hugging Face to compare with, and the <c>conformance</c> verb's verdict.
/// </summary>
public sealed class CheckVerbTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Prompt_logits_at_the_last_position_are_every_golden_first_step(bool merged)
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == "tiny-llama");
        using var model = ModelLoader.Load(TestFixtures.ModelDir(f.Model));
        foreach (var c in f.Cases)
        {
            using var adapter = c.Adapter is null ? null
                : PeftAdapterLoader.Load(c.Adapter, TestFixtures.AdapterDir(f.Model, c.Adapter), model.Config, model.Name, maxRank: 64);
            var adapters = adapter is null ? Array.Empty<(Adapter, double)>() : [(adapter, 1.0)];
            using var logits = PromptLogits.Compute(model, f.Prompts[c.Prompt].Ids, adapters, merged);
            Assert.Equal(new long[] { f.Prompts[c.Prompt].Ids.Count, model.Config.VocabSize }, logits.shape);
            var (values, indices) = logits[-1].topk(5);
            var top = Enumerable.Range(0, 5).Select(j => ((int)indices[j].item<long>(), values[j].item<float>())).ToList();
            GoldenAssert.Matches(c, c.Greedy, top); // tokens are not generated here: the top-5 is the check
        }
    }

    [Fact]
    public void Logits_verb_writes_one_row_per_prompt_token_and_drops_the_soft_prompt_rows()
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == "tiny-llama");
        var c = f.Cases.First(x => x.Adapter == "soft-8");
        var ids = f.Prompts[c.Prompt].Ids;
        var path = Path.Combine(Path.GetTempPath(), $"logits-{Guid.NewGuid():N}.safetensors");
        var stdout = new StringWriter();
        try
        {
            var rc = LogitsCommand.Run(Args("logits", "--model", TestFixtures.ModelDir(f.Model), "--prompt-ids", string.Join(",", ids),
                "--adapter", TestFixtures.AdapterDir(f.Model, "soft-8"), "--out", path), stdout);
            Assert.Equal(0, rc);
            using var file = SafetensorsFile.Open(path);
            Assert.Equal(new long[] { ids.Count, 32000 }, file.Info("logits").Shape);
            using var logits = file.Load("logits");
            Assert.Equal((int)c.Top5[0][0], (int)logits[-1].argmax().item<long>());
            using var summary = JsonDocument.Parse(stdout.ToString());
            Assert.Equal(ids, summary.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Conformance_verb_passes_the_goldens_and_fails_an_impossible_tolerance()
    {
        var ok = new StringWriter();
        Assert.Equal(0, ConformanceCommand.Run(Args("conformance", "--fixtures", TestFixtures.Root, "--fixture", "tiny-llama-bf16", "--modes", "merged"), ok));
        using (var report = JsonDocument.Parse(ok.ToString()))
        {
            Assert.True(report.RootElement.GetProperty("passed").GetBoolean());
            Assert.All(report.RootElement.GetProperty("runs").EnumerateArray(), r => Assert.Equal(12, r.GetProperty("passed").GetInt32()));
        }

        var strict = new StringWriter();
        Assert.Equal(1, ConformanceCommand.Run(Args("conformance", "--fixtures", TestFixtures.Root, "--fixture", "tiny-llama-bf16", "--modes", "unmerged", "--tolerance", "1e-9"), strict));
        using var failed = JsonDocument.Parse(strict.ToString());
        Assert.False(failed.RootElement.GetProperty("passed").GetBoolean());
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    public void Device_option_names_the_bad_value(string name)
    {
        var e = Assert.Throws<CliException>(() => DeviceOption.Parse(name));
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Dtype_compare_on_held_out_text_is_zero_against_itself_and_small_for_int8()
    {
        var text = Path.Combine(Path.GetTempPath(), $"held-out-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(text, [
            """{"dialogue": "#Person1#: Where is the station?\n#Person2#: Two blocks north, next to the bank."}""",
            """{"dialogue": "#Person1#: Can I pay by card?\n#Person2#: Of course. Please sign here."}""",
            """{"dialogue": "#Person1#: What time does the film start?\n#Person2#: At eight, but we should leave at seven."}""",
        ]);
        try
        {
            JsonElement Run(params string[] extra)
            {
                var stdout = new StringWriter();
                Assert.Equal(0, DTypeCompareCommand.Run(Args("dtype-compare", ["--model", TestFixtures.ModelDir("tiny-llama"), "--text", text, "--limit", "2", .. extra]), stdout));
                return JsonDocument.Parse(stdout.ToString()).RootElement.GetProperty("fixtures")[0].Clone();
            }

            var same = Run("--dtype", "float32");
            Assert.Equal(2, same.GetProperty("documents").GetInt32());
            Assert.True(same.GetProperty("positions").GetInt32() > 20);
            Assert.Equal(0, same.GetProperty("mean_kl").GetDouble(), 9);
            Assert.Equal(1.0, same.GetProperty("top1_agreement").GetDouble());

            var int8 = Run("--dtype", "float32", "--quantization", "int8");
            Assert.InRange(int8.GetProperty("mean_kl").GetDouble(), 1e-7, 0.05); // the bound QuantizedModelTests uses on the goldens
            Assert.True(int8.GetProperty("top1_agreement").GetDouble() >= 0.85);

            File.AppendAllText(text, "{\"summary\": \"no dialogue\"}\n");
            var e = Assert.Throws<CliException>(() => DTypeCompareCommand.Run(Args("dtype-compare", "--model", TestFixtures.ModelDir("tiny-llama"), "--text", text), new StringWriter()));
            Assert.Contains(":4: no non-empty string field 'dialogue'", e.Message);
        }
        finally
        {
            File.Delete(text);
        }
    }

    private static CliArgs Args(string verb, params string[] args) => InferenceHost.Tools.ToolVerbs.All.Single(v => v.Name == verb).Parse(args);
}
