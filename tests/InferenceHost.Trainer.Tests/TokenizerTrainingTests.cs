using System.Diagnostics;
using System.Text.Json.Nodes;
using InferenceHost.Model.Tokenization;
using InferenceHost.Trainer.Tokenization;

namespace InferenceHost.Trainer.Tests;

public sealed class TokenizerTrainingTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("trainer-bpe-").FullName;

    private static readonly string[] Corpus =
    [
        "#Person1#: Hi, Mr. Smith. I'm Doctor Hawkins. Why are you here today?\n#Person2#: I found it would be a good idea to get a check-up.",
        "#Person1#: Yes, well, you haven't had one for 5 years. You should have one every year.\n#Person2#: I know. I figure as long as there is nothing wrong, why go see the doctor?",
        "#Person1#: Let me see here. Your eyes and ears look fine. Take a deep breath, please. Do you smoke, Mr. Smith?\n#Person2#: Yes. It costs 12,500 yen a month.",
        "Naïve café owners in Zürich say: «Grüß Gott!» — 東京へようこそ. Tabs\tand  double  spaces.",
    ];

    [Fact]
    public void Merges_follow_pair_frequency_on_the_textbook_example()
    {
        // Sennrich et al.'s example: low ×5, lower ×2, newest ×6, widest ×3. By hand: e+s (9), es+t (9, e+s won the
        // tie with s+t by order), l+o (7, ahead of o+w), lo+w (7); then e+w, n+e and w+est have 6 each, e+w first;
        // then ew+est (6, ahead of n+ew) and n+ewest (6).
        var pieces = new Dictionary<string, long> { ["low"] = 5, ["lower"] = 2, ["newest"] = 6, ["widest"] = 3 };
        var model = BpeTrainer.Train(pieces, 256 + 7 + 1, ["<s>"], minFrequency: 1);
        Assert.Equal(
            [("e", "s", 9L), ("es", "t", 9L), ("l", "o", 7L), ("lo", "w", 7L), ("e", "w", 6L), ("ew", "est", 6L), ("n", "ewest", 6L)],
            model.Merges.Select(m => (m.Left, m.Right, m.Count)));
        Assert.Equal(["es", "est", "lo", "low", "ew", "ewest", "newest"], model.Tokens.Skip(256));
        Assert.Equal(263, model.SpecialId("<s>"));
        // Tokens left: low 1·5 + lower 3·2 + newest 1·6 + widest 4·3.
        Assert.Equal(29, model.TrainingTokens);
        // With min-frequency 7 the run stops after the 7-count merges.
        Assert.Equal(4, BpeTrainer.Train(pieces, 300, ["<s>"], minFrequency: 7).Merges.Count);
    }

    [Fact]
    public void The_pre_tokenizer_splits_like_llama_3()
    {
        var pieces = BpeTrainer.CountPieces(["I'm low, lower 123456\n\nok  ok"]);
        Assert.Equal(["I", "'m", " low", ",", " lower", " ", "123", "456", "\n\n", "ok", " ok"], pieces.Keys);
        Assert.Equal(2, pieces[" "]);
    }

    [Fact]
    public void Merge_counts_never_rise_and_the_server_loader_reads_the_result_and_round_trips_any_text()
    {
        var text = Enumerable.Range(0, 20).SelectMany(i => Corpus.Select(c => c.Replace("5", (i * 7).ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToList();
        var model = BpeTrainer.Train(text, 400, ["<s>", "</s>", "<pad>"]);
        Assert.Equal(400 - 256 - 3, model.Merges.Count);
        Assert.All(model.Merges.Zip(model.Merges.Skip(1)), p => Assert.True(p.First.Count >= p.Second.Count, $"{p.First} then {p.Second}"));

        TokenizerJsonWriter.Write(temp, model, "<s>", "</s>", "<pad>");
        var tok = TokenizerLoader.Load(temp);
        Assert.Equal(400, tok.VocabSize);
        Assert.Equal((397, 398), (tok.BosId, tok.EosId));
        // The loader applies the merges by rank and lands on the segmentation training ended with.
        Assert.Equal(model.TrainingTokens, text.Sum(t => tok.Encode(t, addSpecialTokens: false).Count));
        var person = tok.Encode("#Person1#: Hi", addSpecialTokens: false);
        Assert.True(person.Count <= 5, $"'#Person1#: Hi' is {person.Count} tokens");

        string[] samples =
        [
            "Hello there, #Person2#! How much is 12,500 yen?", "👋🏽 emoji 🧑‍🚀 and flags 🇯🇵", "東京へようこそ, Ελληνικά, русский, עברית",
            "\u0000\u0001\u001f\u007f control\tbytes\r\n", "é (composed) vs e\u0301 (combining)", "  leading and trailing spaces  ", "", "< s > is no special token",
        ];
        foreach (var s in samples)
        {
            var ids = tok.Encode(s, addSpecialTokens: false);
            Assert.Equal(s, tok.Decode(ids));
            Assert.All(ids, id => Assert.InRange(id, 0, 399));
            var withBos = tok.Encode(s);
            Assert.Equal(397, withBos[0]);
            Assert.Equal(s, tok.Decode(withBos));
        }

        // A special token typed in the text is that token (as Hugging Face's added tokens), and decoding skips it.
        Assert.Equal([397, 398], tok.Encode("<s></s>", addSpecialTokens: false));

        // A character the training text never had falls back to its UTF-8 bytes (ids 0-255).
        Assert.Equal([0xF0, 0x9F, 0xA7, 0x91], tok.Encode("🧑", addSpecialTokens: false));
    }

    [Fact]
    public void The_verb_writes_a_tokenizer_dir_and_reports_its_counts()
    {
        var file = Path.Combine(temp, "docs.jsonl");
        File.WriteAllLines(file, Enumerable.Range(0, 40).Select(i => new JsonObject { ["dialogue"] = Corpus[i % Corpus.Length] + $" ({i})" }.ToJsonString()));
        var outDir = Path.Combine(temp, "tok");
        var log = new StringWriter();
        var clock = Stopwatch.StartNew();
        Assert.Equal(0, TrainTokenizerCommand.Run(TrainerVerbs.Parse("train-tokenizer", ["--text", file, "--text-field", "dialogue", "--vocab-size", "320", "--val-split", "0.1", "--out", outDir]), log));
        Assert.True(clock.Elapsed.TotalSeconds < 10, log.ToString());
        var stats = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "tokenizer_training.json")))!;
        Assert.Equal((36, 4, 320), (stats["documents"]!.GetValue<int>(), stats["held_out_documents"]!.GetValue<int>(), stats["vocab_size"]!.GetValue<int>()));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, TokenizerConfig.FileName)))!;
        Assert.Equal(("<s>", "</s>", "<pad>"), (config["bos_token"]!.GetValue<string>(), config["eos_token"]!.GetValue<string>(), config["pad_token"]!.GetValue<string>()));
        Assert.Equal(320, TokenizerLoader.Load(outDir).VocabSize);
        var e = Assert.Throws<InferenceHost.CommandLine.CliException>(() => TrainTokenizerCommand.Run(TrainerVerbs.Parse("train-tokenizer", ["--text", file, "--vocab-size", "100", "--out", outDir]), log));
        Assert.Contains("--vocab-size 100", e.Message);
    }

    public void Dispose() => Directory.Delete(temp, recursive: true);
}
