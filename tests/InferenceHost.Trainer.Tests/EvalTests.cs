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
        // Each system's diversity is that of its own predictions, in the JSON and in the table.
        foreach (var system in systems)
        {
            var preds = system!["predictions"]!.AsObject().Single().Value!.AsArray().Select(p => p!.GetValue<string>()).ToList();
            var expected = Evaluation.Diversity.Compute(preds);
            var got = system["diversity"]!.AsObject().Single().Value!;
            Assert.Equal(expected.Distinct2, got["distinct2"]!.GetValue<double>(), 12);
            Assert.Equal(expected.RepetitionRate, got["repetition_rate"]!.GetValue<double>(), 12);
        }

        Assert.Contains("| distinct-2 | repetition |", md);
    }

    [Fact]
    public void Distinct_2_and_repetition_rate_match_a_hand_count()
    {
        // 4 bigrams, all (the, the): 1/4; two 4-grams, both the same: 1 − 1/2.
        Assert.Equal(new Evaluation.Diversity(0.25, 0.5, 4, 1), Evaluation.Diversity.Compute(["the the the the the"]));
        // Bigrams ab bc cd de + ab bx: 5 distinct of 6; only the first has 4-grams (abcd, bcde), none repeated.
        var d = Evaluation.Diversity.Compute(["a b c d e", "A b x"]);
        Assert.Equal((5.0 / 6, 0.0, 6, 1), (d.Distinct2, d.RepetitionRate, d.Bigrams, d.GenerationsWith4Grams));
        // Case folded, punctuation is a word: hello , hello , hello , hello → 2 distinct of 6 bigrams; 4-grams 2 distinct of 4.
        var h = Evaluation.Diversity.Compute(["Hello, hello, HELLO, hello"]);
        Assert.Equal((2.0 / 6, 0.5), (h.Distinct2, h.RepetitionRate));
        Assert.Equal(new Evaluation.Diversity(0, 0, 0, 0), Evaluation.Diversity.Compute(["", "one"]));
    }

    public void Dispose() => Directory.Delete(temp, recursive: true);
}
