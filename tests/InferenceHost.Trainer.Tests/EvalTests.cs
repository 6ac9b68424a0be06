using InferenceHost.CommandLine;
using System.Text.Json.Nodes;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Trainer.Tests;

[Collection(nameof(TorchGlobalState))]
public sealed class EvalTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("trainer-eval-").FullName;

    [Fact]
    public void Eval_compares_base_adapters_and_a_full_model_in_markdown_and_json()
    {
        var data = Path.Combine(temp, "task.jsonl");
        File.WriteAllLines(data, ["{\"id\": \"a\", \"text\": \"one two\", \"label\": \"three four\"}", "{\"id\": \"b\", \"text\": \"five\", \"label\": \"six\"}"]);
        var outDir = Path.Combine(temp, "eval");
        var fixture = TestFixtures.ModelDir("tiny-llama");
        var args = TrainerVerbs.Parse("eval",
        [
            "--model", fixture, "--model", $"copy={fixture}",
            "--adapter", $"qv={TestFixtures.AdapterDir("tiny-llama", "lora-qv")}", "--adapter", $"soft={TestFixtures.AdapterDir("tiny-llama", "soft-8")}",
            "--data", data + "::{text} =|||{label}", "--max-new-tokens", "3", "--ppl-text", data, "--ppl-field", "text", "--ppl-block", "4", "--out", outDir,
        ]);
        Assert.Equal(0, EvalCommand.Run(args, TextWriter.Null, "test"));

        var md = File.ReadAllText(Path.Combine(outDir, "results.md"));
        foreach (var row in new[] { "| base | Base |", "| soft | PromptTuning |", "| qv | Lora |", "| copy | Full |", "Forgetting", "**task.jsonl:1 (a)**" })
        {
            Assert.Contains(row, md);
        }

        var systems = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")))!["systems"]!.AsArray();
        Assert.Equal(["base", "soft", "qv", "copy"], systems.Select(s => s!["name"]!.GetValue<string>()));
        // The full model is a copy of the base: the same generations and perplexity.
        Assert.Equal(systems[0]!["predictions"]!.ToJsonString(), systems[3]!["predictions"]!.ToJsonString());
        Assert.Equal(systems[0]!["held_out_perplexity"]!.GetValue<double>(), systems[3]!["held_out_perplexity"]!.GetValue<double>());
        Assert.Equal(8 * 64, systems[1]!["trainable_parameters"]!.GetValue<long>());
    }

    public void Dispose() => Directory.Delete(temp, recursive: true);
}
