using InferenceHost.Model;
using InferenceHost.Tests.Shared;
using InferenceHost.Trainer.Data;

namespace InferenceHost.Trainer.Tests;

/// <summary>Templates, bad-data errors, mixing, splits and prompt masking: no training needed.</summary>
public sealed class DataTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("trainer-data-").FullName;

    private string WriteFile(string name, params string[] lines)
    {
        var path = Path.Combine(temp, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    private static InferenceHost.Trainer.Data.Record R(params (string K, string V)[] fields) => new("mem.jsonl", 7, fields.ToDictionary(f => f.K, f => f.V));

    [Fact]
    public void User_templates_fill_fields_and_keep_escaped_braces()
    {
        var t = TemplateLibrary.Resolve("Q: {question} {{literal}}\\nA:|||{answer}").Phrasings.Single();
        var (prompt, completion) = t.Render(R(("question", " why? "), ("answer", "because")));
        Assert.Equal("Q: why? {literal}\nA:", prompt);
        Assert.Equal("because", completion);
        Assert.Equal(["question", "answer"], t.Fields);
    }

    [Fact]
    public void Library_tasks_have_several_phrasings_chosen_the_same_way_every_run()
    {
        var task = TemplateLibrary.Resolve("dialogue-summary");
        Assert.True(task.Phrasings.Count >= 3);
        var picks = Enumerable.Range(0, 200).Select(i => task.For(i, 1)).ToList();
        Assert.Equal(task.Phrasings.Count, picks.Distinct().Count());
        Assert.Equal(picks, Enumerable.Range(0, 200).Select(i => task.For(i, 1)));
        var one = TemplateLibrary.Resolve("dialogue-summary#2");
        Assert.Same(task.Phrasings[2], one.Phrasings.Single());
        foreach (var name in new[] { "review-rating", "sentiment", "translation", "dialogue-topic" })
        {
            Assert.True(TemplateLibrary.Tasks[name].Phrasings.Count >= 2, name);
        }
    }

    [Fact]
    public void A_missing_field_names_file_line_and_field()
    {
        var t = TemplateLibrary.Resolve("dialogue-summary#0").Phrasings[0];
        var e = Assert.Throws<DataException>(() => t.Render(R(("dialogue", "#Person1#: hi"))));
        Assert.StartsWith("mem.jsonl:7:", e.Message);
        Assert.Contains("'summary' is missing", e.Message);
        var empty = Assert.Throws<DataException>(() => t.Render(R(("dialogue", "x"), ("summary", "  "))));
        Assert.Contains("'summary' is empty", empty.Message);
    }

    [Fact]
    public void Invalid_json_on_line_n_is_an_error_naming_file_and_line_or_a_counted_skip()
    {
        var path = WriteFile("bad.jsonl", "{\"a\": \"1\"}", "", "{\"a\": \"2\"", "[1, 2]", "{\"a\": \"3\"}");
        var e = Assert.Throws<DataException>(() => JsonlReader.Read(path, BadRecordPolicy.Error, new SkipCounts()));
        Assert.Equal(3, e.Line);
        Assert.StartsWith($"{path}:3: invalid JSON", e.Message);

        var skips = new SkipCounts();
        var records = JsonlReader.Read(path, BadRecordPolicy.Skip, skips);
        Assert.Equal([1, 5], records.Select(r => r.Line));
        Assert.Equal(2, skips.Total);
        Assert.Equal(1, skips.ByReason["invalid JSON lines"]);
        Assert.Equal(1, skips.ByReason["non-object lines"]);
    }

    [Fact]
    public void Over_long_and_empty_examples_are_errors_naming_the_line_unless_skipped_or_truncated()
    {
        using var model = ModelLoader.Load(TestFixtures.ModelDir("tiny-llama"));
        var path = WriteFile("long.jsonl",
            "{\"text\": \"short\", \"label\": \"ok\"}",
            "{\"text\": \"" + string.Join(' ', Enumerable.Repeat("word", 300)) + "\", \"label\": \"ok\"}",
            "{\"text\": \"fine\", \"label\": \"\"}");
        var records = JsonlReader.Read(path, BadRecordPolicy.Error, new SkipCounts());
        var task = TemplateLibrary.Resolve("{text} =|||{label}");
        var strict = new ExampleBuilder(model.Tokenizer, model.EosIds, 64, BadRecordPolicy.Error, LongExamplePolicy.Reject);
        var e = Assert.Throws<DataException>(() => strict.Build(records, task, 0, new SkipCounts()));
        Assert.StartsWith($"{path}:2: example is", e.Message);
        Assert.Contains("--max-length is 64", e.Message);

        var skips = new SkipCounts();
        var lenient = new ExampleBuilder(model.Tokenizer, model.EosIds, 64, BadRecordPolicy.Skip, LongExamplePolicy.Reject);
        Assert.Single(lenient.Build(records, task, 0, skips));
        Assert.Equal(1, skips.ByReason["over-long records"]);
        Assert.Equal(1, skips.ByReason["empty records"]);

        var truncating = new ExampleBuilder(model.Tokenizer, model.EosIds, 64, BadRecordPolicy.Skip, LongExamplePolicy.TruncatePrompt);
        var built = truncating.Build(records, task, 0, new SkipCounts());
        Assert.Equal(2, built.Count);
        Assert.Equal(64, built[1].Ids.Length);
    }

    [Fact]
    public void Only_completion_tokens_carry_labels_and_padding_is_ignored()
    {
        var a = new TokenizedExample([1, 10, 11, 12, 20, 21, 2], PromptLength: 4, "f", 1);
        var b = new TokenizedExample([1, 30, 40, 2], PromptLength: 2, "f", 2);
        var batch = Batching.Pad([a, b], 2, padId: 0).Single();
        Assert.Equal(7, batch.Width);
        // Row a: position t predicts token t+1; targets are 20, 21, 2 (the completion and EOS).
        Assert.Equal([-100, -100, -100, 20, 21, 2, -100], batch.Labels[..7]);
        Assert.Equal([-100, 40, 2, -100, -100, -100, -100], batch.Labels[7..]);
        Assert.Equal([1, 30, 40, 2, 0, 0, 0], batch.Ids[7..]);
        Assert.Equal(5, batch.TargetCount);

        var packed = Batching.Pack([a, b, a], 4, maxLength: 12, padId: 0);
        Assert.Equal(2, packed[0].Rows);
        Assert.Equal([-100, -100, -100, 20, 21, 2, -100, -100, 40, 2, -100], packed[0].Labels[..11]);
        Assert.Equal([11L, 7L], packed[0].Lengths);
    }

    [Fact]
    public void Grouping_by_length_keeps_every_example_and_cuts_the_padding()
    {
        // Lengths 20..400 in a seeded random order, as the mixture draws them: random batches of 8 pad to their
        // longest row; windows of 50 batches sorted longest first put similar lengths together.
        var rng = new Random(3);
        var examples = Enumerable.Range(0, 1000)
            .Select(i => new TokenizedExample([.. Enumerable.Repeat(7, rng.Next(20, 401))], PromptLength: 1, "f", i)).ToArray();
        var plain = Batching.Pad(examples, 8, padId: 0);
        var grouped = Batching.Pad(examples, 8, padId: 0, groupByLength: true);
        Assert.Equal(plain.Count, grouped.Count);
        Assert.Equal(plain.Sum(b => b.TokenCount), grouped.Sum(b => b.TokenCount));
        Assert.Equal(plain.Sum(b => b.TargetCount), grouped.Sum(b => b.TargetCount));
        Assert.True(Batching.PaddingShare(plain) > 0.25, $"random batches: {Batching.PaddingShare(plain):P1} padding");
        Assert.True(Batching.PaddingShare(grouped) < 0.02, $"grouped: {Batching.PaddingShare(grouped):P1} padding");

        // Every example once, and a window never takes examples from the next one: the first 400 drawn are the first 50 batches.
        var order = Batching.GroupByLength(examples, 8);
        Assert.Equal(examples.Select(e => e.Line).Order(), order.Select(e => e.Line).Order());
        Assert.Equal(examples.Take(400).Select(e => e.Line).Order(), order.Take(400).Select(e => e.Line).Order());
        Assert.True(order.Take(400).Select(e => e.Ids.Length).SequenceEqual(order.Take(400).Select(e => e.Ids.Length).OrderDescending()));
    }

    [Fact]
    public void Pretraining_text_counts_every_next_token()
    {
        var e = new TokenizedExample([1, 5, 6, 2], PromptLength: 0, "f", 0);
        Assert.Equal([5, 6, 2, -100], Batching.Pad([e], 1, 0)[0].Labels);
    }

    [Fact]
    public void Mixing_follows_the_weights_and_the_seed()
    {
        TokenizedExample[] Examples(int n, int tag) => Enumerable.Range(0, n).Select(i => new TokenizedExample([tag, i], 1, $"set{tag}", i)).ToArray();
        var sets = new[] { new WeightedDataset("a", Examples(10, 1), 3), new WeightedDataset("b", Examples(50, 2), 1) };
        var draws = new Mixture(sets, 7).Draw(4000);
        var shareA = draws.Count(d => d.Set == 0) / 4000.0;
        Assert.InRange(shareA, 0.72, 0.78);
        // Each set cycles through all of its examples before repeating one.
        Assert.Equal(10, draws.Where(d => d.Set == 0).Take(10).Select(d => d.Example.Line).Distinct().Count());
        Assert.Equal(draws.Select(d => d.Example), new Mixture(sets, 7).Draw(4000).Select(d => d.Example));
        Assert.NotEqual(draws.Select(d => d.Example), new Mixture(sets, 8).Draw(4000).Select(d => d.Example));
        Assert.Throws<ArgumentException>(() => new Mixture([new WeightedDataset("a", Examples(3, 1), 0)], 1));
    }

    [Fact]
    public void Seeded_splits_are_disjoint_complete_and_repeatable()
    {
        var items = Enumerable.Range(0, 100).ToList();
        var (train, val, test) = Splits.Split(items, 0.1, 0.2, 5);
        Assert.Equal((70, 10, 20), (train.Count, val.Count, test.Count));
        Assert.Equal(items, train.Concat(val).Concat(test).Order());
        Assert.Equal(val, Splits.Split(items, 0.1, 0.2, 5).Validation);
    }

    public void Dispose() => Directory.Delete(temp, recursive: true);
}
