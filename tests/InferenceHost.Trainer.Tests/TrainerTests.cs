using InferenceHost.CommandLine;
using System.Text.Json.Nodes;
using InferenceHost.Adapters;
using InferenceHost.Adapters.Peft;
using InferenceHost.Engine;
using InferenceHost.Engine.Sampling;
using InferenceHost.Model;
using InferenceHost.Model.Tokenization;
using InferenceHost.Tests.Shared;
using InferenceHost.Trainer.Data;
using InferenceHost.Trainer.Output;

namespace InferenceHost.Trainer.Tests;

/// <summary>The trainer end to end on the tiny fixture. Global torch state (manual_seed) ⇒ not parallel.</summary>
[Collection(nameof(TorchGlobalState))]
public sealed partial class TrainerTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("trainer-").FullName;
    private static readonly string Fixture = TestFixtures.ModelDir("tiny-llama");

    /// <summary>A small task with a visible effect: answer every question with the same word.</summary>
    private string TaskFile()
    {
        var path = Path.Combine(temp, "task.jsonl");
        if (!File.Exists(path))
        {
            var words = new[] { "apple", "river", "stone", "cloud", "green", "music", "table", "light" };
            File.WriteAllLines(path, Enumerable.Range(0, 48).Select(i =>
                $"{{\"text\": \"{words[i % words.Length]} {words[(i * 3 + 1) % words.Length]}\", \"label\": \"banana banana\"}}"));
        }

        return path;
    }

    private (JsonObject Report, string Out) Train(string name, params string[] extra)
    {
        var outDir = Path.Combine(temp, name);
        var args = new List<string>
        {
            "--model", Fixture, "--data", TaskFile(), "--template", "Say: {text}\\n|||{label}", "--out", outDir,
            "--batch-size", "8", "--max-steps", "12", "--seed", "3", "--max-length", "64", "--eval-rouge-samples", "0",
        };
        args.AddRange(extra);
        var log = new StringWriter();
        var code = TrainCommand.Run(TrainerVerbs.Parse("train", args), log, pretrain: false, "test");
        Assert.True(code == 0, log.ToString());
        return (JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "training", "report.json")))!.AsObject(), outDir);
    }

    private static double[] Losses(JsonObject report) => report["steps"]!.AsArray().Select(s => s!["loss"]!.GetValue<double>()).ToArray();

    [Fact]
    public void Lora_loss_goes_down_and_the_adapter_loads_in_the_server_and_changes_its_output()
    {
        var (report, dir) = Train("lora", "--method", "lora", "--rank", "4", "--alpha", "8", "--targets", "q_proj,v_proj,o_proj,down_proj", "--lr", "1e-2");
        var losses = Losses(report);
        Assert.True(losses[^3..].Average() < losses[..3].Average() * 0.7, $"loss did not fall: {string.Join(", ", losses)}");
        // Per layer, r=4: q 4·64+64·4, v 4·64+32·4, o 4·64+64·4, down 4·172+64·4; three layers.
        Assert.Equal(3 * (512 + 384 + 512 + 944), report["trainable_parameters"]!.GetValue<long>());
        Assert.Equal(PeftWriter.SizeOnDisk(dir), report["output_bytes"]!.GetValue<long>());
        // Every report states MFU: the run's FLOPs lie between the per-token count at the shortest and the longest row (≤ 64).
        using (var fixture = ModelLoader.Load(Fixture))
        {
            var perToken = report["train_flops"]!.GetValue<double>() / report["train_tokens"]!.GetValue<long>();
            var lora = report["trainable_parameters"]!.GetValue<long>();
            Assert.InRange(perToken, Training.Flops.PerToken(fixture.Config, Training.Method.Lora, lora, 1), Training.Flops.PerToken(fixture.Config, Training.Method.Lora, lora, 64));
        }

        Assert.True(report["matmul_peak_flops_per_second"]!.GetValue<double>() > 0);
        Assert.True(report["matmul_peak_at_end"]!["flops_per_second"]!.GetValue<double>() > 0);
        Assert.Equal(report["achieved_flops_per_second"]!.GetValue<double>() / report["matmul_peak_flops_per_second"]!.GetValue<double>(), report["mfu"]!.GetValue<double>(), 9);

        using var model = ModelLoader.Load(Fixture);
        var adapter = (LoraAdapter)PeftAdapterLoader.Load("trained", dir, model.Config, model.Name, 64);
        Assert.Equal(12, adapter.Modules.Count);
        adapter.Dispose();
        var (plain, adapted) = Generate(model, dir, "Say: river stone\n");
        Assert.NotEqual(plain, adapted);
    }

    [Fact]
    public void Prompt_tuning_loss_goes_down_and_the_soft_prompt_loads_and_changes_the_output()
    {
        var (report, dir) = Train("soft", "--method", "prompt-tuning", "--virtual-tokens", "6", "--prompt-init", "text", "--prompt-init-text", "answer with a fruit", "--lr", "5e-2");
        var losses = Losses(report);
        Assert.True(losses[^3..].Average() < losses[..3].Average(), $"loss did not fall: {string.Join(", ", losses)}");
        Assert.Equal(6 * 64, report["trainable_parameters"]!.GetValue<long>());
        using var model = ModelLoader.Load(Fixture);
        using var adapter = (SoftPromptAdapter)PeftAdapterLoader.Load("soft", dir, model.Config, model.Name, 64);
        Assert.Equal(6, adapter.VirtualTokens);
        var (plain, adapted) = Generate(model, dir, "Say: river stone\n");
        Assert.NotEqual(plain, adapted);
    }

    [Fact]
    public void Adapter_files_have_the_fixtures_layout()
    {
        var (_, lora) = Train("layout-lora", "--method", "lora", "--rank", "8", "--alpha", "16", "--targets", "q_proj,v_proj", "--max-steps", "1");
        var (_, soft) = Train("layout-soft", "--method", "prompt-tuning", "--virtual-tokens", "8", "--max-steps", "1");
        foreach (var (mine, fixture) in new[] { (lora, "lora-qv"), (soft, "soft-8") })
        {
            var a = JsonNode.Parse(File.ReadAllText(Path.Combine(mine, "adapter_config.json")))!.AsObject();
            var b = JsonNode.Parse(File.ReadAllText(Path.Combine(TestFixtures.AdapterDir("tiny-llama", fixture), "adapter_config.json")))!.AsObject();
            Assert.Equal(b.Select(p => p.Key), a.Select(p => p.Key));
            using var mineFile = Model.Checkpoints.SafetensorsFile.Open(Path.Combine(mine, "adapter_model.safetensors"));
            using var fixtureFile = Model.Checkpoints.SafetensorsFile.Open(Path.Combine(TestFixtures.AdapterDir("tiny-llama", fixture), "adapter_model.safetensors"));
            Assert.Equal(fixtureFile.Tensors.Keys.Order(), mineFile.Tensors.Keys.Order());
            foreach (var (key, info) in fixtureFile.Tensors)
            {
                Assert.Equal(info.Shape, mineFile.Tensors[key].Shape);
                Assert.Equal(info.DType, mineFile.Tensors[key].DType);
            }
        }
    }

    [Fact]
    public void Seeded_runs_write_identical_adapter_bytes_and_another_seed_does_not()
    {
        string[] lora = ["--method", "lora", "--rank", "4", "--dropout", "0.1", "--lr", "1e-2", "--max-steps", "4"];
        var (_, a) = Train("seed-a", lora);
        var (_, b) = Train("seed-b", lora);
        var (_, c) = Train("seed-c", [.. lora, "--seed", "4"]);
        var bytes = (string d) => File.ReadAllBytes(Path.Combine(d, "adapter_model.safetensors"));
        Assert.Equal(bytes(a), bytes(b));
        Assert.NotEqual(bytes(a), bytes(c));
    }

    [Fact]
    public void Resuming_from_a_checkpoint_gives_the_same_adapter_as_an_uninterrupted_run()
    {
        string[] lora = ["--method", "lora", "--rank", "4", "--lr", "1e-2", "--max-steps", "4", "--save-every", "2", "--no-keep-best"];
        var (_, whole) = Train("whole", lora);
        var (_, resumed) = Train("resumed", [.. lora, "--resume", Path.Combine(whole, "checkpoint")]);
        var bytes = (string d) => File.ReadAllBytes(Path.Combine(d, "adapter_model.safetensors"));
        Assert.Equal(bytes(whole), bytes(resumed));
    }

    [Fact]
    public void Save_every_minutes_writes_a_checkpoint_between_step_based_ones()
    {
        string[] lora = ["--method", "lora", "--rank", "4", "--lr", "1e-2", "--max-steps", "3", "--save-every", "100"];
        var (_, steps) = Train("by-steps", lora);
        Assert.False(Directory.Exists(Path.Combine(steps, "checkpoint")));
        var (_, minutes) = Train("by-minutes", [.. lora, "--save-every-minutes", "0.000001"]);
        // Written after steps 1 and 2 (never after the last: the output itself is the final state).
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(minutes, "checkpoint", "state.json")))!;
        Assert.Equal(2, state["Step"]!.GetValue<int>());
    }

    [Fact]
    public void Validation_keeps_the_best_step_and_early_stopping_ends_the_run()
    {
        var val = Path.Combine(temp, "val.jsonl");
        File.WriteAllLines(val, ["{\"text\": \"a b\", \"label\": \"banana banana\"}", "{\"text\": \"c d\", \"label\": \"banana banana\"}"]);
        var (report, _) = Train("early", "--method", "lora", "--lr", "3", "--max-steps", "12", "--eval-every", "2", "--patience", "2", "--validation", val, "--eval-rouge-samples", "2", "--max-new-tokens", "4");
        var evals = report["evaluations"]!.AsArray();
        Assert.True(evals.Count >= 2);
        Assert.NotNull(evals[0]!["scores"]);
        Assert.True(report["stopped_early"]!.GetValue<bool>() || report["steps_run"]!.GetValue<int>() == 12);
        var best = report["best_step"]!.GetValue<int>();
        var bestLoss = evals.Min(e => e!["validation_loss"]!.GetValue<double>());
        Assert.Equal(bestLoss, evals.Single(e => e!["step"]!.GetValue<int>() == best)!["validation_loss"]!.GetValue<double>());
    }

    [Fact]
    public void A_run_resumed_after_its_best_evaluation_still_writes_that_evaluations_weights()
    {
        // A tiny base of sane scale (a few pre-training steps from a fresh initialization: its loss is about ln V),
        // whose validation answers are words the training task never gives: as the training answer's probability
        // rises, theirs falls, so the best evaluation is an early one and the resumed half only gets worse.
        var text = Path.Combine(temp, "best-text.jsonl");
        File.WriteAllLines(text, Enumerable.Range(0, 20).Select(i => new JsonObject { ["text"] = $"Say: apple river {i}\nbanana banana cloud stone green light" }.ToJsonString()));
        var tokDir = Path.Combine(temp, "best-bpe");
        Assert.Equal(0, TrainTokenizerCommand.Run(TrainerVerbs.Parse("train-tokenizer", ["--text", text, "--vocab-size", "300", "--out", tokDir]), TextWriter.Null));
        var baseDir = Path.Combine(temp, "best-base");
        var log = new StringWriter();
        Assert.True(TrainCommand.Run(TrainerVerbs.Parse("pretrain", [
            "--tokenizer", tokDir, "--shape", "dialogsum-6m", "--hidden", "32", "--num-layers", "2", "--heads", "2", "--kv-heads", "2", "--intermediate", "64",
            "--text", text, "--out", baseDir, "--max-length", "32", "--batch-size", "4", "--max-steps", "2", "--no-keep-best", "--threads", "1"]), log, pretrain: true, "test") == 0, log.ToString());
        var val = Path.Combine(temp, "val-best.jsonl");
        File.WriteAllLines(val, ["{\"text\": \"apple river\", \"label\": \"cloud stone\"}", "{\"text\": \"music table\", \"label\": \"green light\"}"]);
        (JsonNode Report, string Dir) Run(string name, params string[] extra)
        {
            var outDir = Path.Combine(temp, name);
            var runLog = new StringWriter();
            Assert.True(TrainCommand.Run(TrainerVerbs.Parse("train", [
                "--model", baseDir, "--data", TaskFile(), "--template", "Say: {text}\\n|||{label}", "--out", outDir, "--batch-size", "8", "--seed", "3",
                "--max-length", "64", "--eval-rouge-samples", "0", "--method", "lora", "--rank", "4", "--lr", "5e-2", "--max-steps", "6",
                "--eval-every", "1", "--validation", val, "--save-every", "3", "--threads", "1", .. extra]), runLog, pretrain: false, "test") == 0, runLog.ToString());
            return (JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "training", "report.json")))!, outDir);
        }

        var (whole, wholeDir) = Run("best-whole");
        var best = whole["best_step"]!.GetValue<int>();
        Assert.True(best < 3, $"the best evaluation (step {best}) must come before the step-3 checkpoint for this test to mean anything");
        Assert.True(File.Exists(Path.Combine(wholeDir, "checkpoint", "best.safetensors")));
        var (resumed, resumedDir) = Run("best-resumed", "--resume", Path.Combine(wholeDir, "checkpoint"));
        Assert.Equal(best, resumed["best_step"]!.GetValue<int>());
        var bytes = (string d) => File.ReadAllBytes(Path.Combine(d, "adapter_model.safetensors"));
        Assert.Equal(bytes(wholeDir), bytes(resumedDir));
    }

    [Fact]
    public void Bad_data_stops_training_with_file_and_line()
    {
        var bad = Path.Combine(temp, "bad.jsonl");
        File.WriteAllLines(bad, ["{\"text\": \"a\", \"label\": \"b\"}", "{\"text\": \"a\"}"]);
        var args = TrainerVerbs.Parse("train", ["--model", Fixture, "--data", bad, "--template", "{text}|||{label}", "--out", Path.Combine(temp, "bad")]);
        var e = Assert.Throws<DataException>(() => TrainCommand.Run(args, TextWriter.Null, false, "test"));
        Assert.StartsWith($"{bad}:2: field 'label' is missing", e.Message);
    }

    [Fact]
    public void A_misspelt_option_is_refused_before_training()
    {
        var e = Assert.Throws<CliException>(() => Train("typo", "--method", "lora", "--rnak", "4"));
        Assert.Contains("--rnak", e.Message);
        Assert.False(File.Exists(Path.Combine(temp, "typo", "adapter_model.safetensors")));
    }

    [Fact]
    public void Full_fine_tuning_and_pretraining_write_checkpoints_the_model_loader_reads()
    {
        var (report, full) = Train("full", "--method", "full", "--lr", "1e-3", "--max-steps", "4");
        Assert.Equal(1.0, report["trainable_share"]!.GetValue<double>());
        using (var model = ModelLoader.Load(full))
        {
            Assert.Equal(64, model.Config.HiddenSize);
        }

        var text = Path.Combine(temp, "text.txt");
        File.WriteAllText(text, string.Join("\n\n", Enumerable.Repeat("the cat sat on the mat. the dog sat on the log.", 40)));
        var outDir = Path.Combine(temp, "pretrained");
        var args = TrainerVerbs.Parse("pretrain", ["--tokenizer", Path.Combine(Fixture, "tokenizer.model"), "--hidden", "32", "--num-layers", "2", "--heads", "4", "--kv-heads", "2",
            "--intermediate", "64", "--text", text, "--out", outDir, "--max-length", "32", "--batch-size", "4", "--max-steps", "8", "--lr", "1e-2", "--val-split", "0.1"]);
        Assert.Equal(0, TrainCommand.Run(args, TextWriter.Null, pretrain: true, "test"));
        var steps = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "training", "report.json")))!["steps"]!.AsArray();
        Assert.True(steps[^1]!["loss"]!.GetValue<double>() < steps[0]!["loss"]!.GetValue<double>());
        using var pretrained = ModelLoader.Load(outDir);
        Assert.Equal((32, 2), (pretrained.Config.HiddenSize, pretrained.Config.NumHiddenLayers));
    }

    [Fact]
    public void Pretraining_with_a_learned_tokenizer_sizes_the_vocabulary_from_it_and_a_time_limited_run_resumes_to_the_same_weights()
    {
        var text = Path.Combine(temp, "dialogues.jsonl");
        File.WriteAllLines(text, Enumerable.Range(0, 30).Select(i => new JsonObject
        {
            ["dialogue"] = $"#Person1#: Hello, how are you today? I have {i} apples.\n#Person2#: Fine, thanks. Do you want to share {i % 4} of them?",
        }.ToJsonString()));
        var tokDir = Path.Combine(temp, "bpe");
        Assert.Equal(0, TrainTokenizerCommand.Run(TrainerVerbs.Parse("train-tokenizer", ["--text", text, "--text-field", "dialogue", "--vocab-size", "300", "--out", tokDir]), TextWriter.Null));

        string[] Args(string outDir, params string[] extra) =>
        [
            "--tokenizer", tokDir, "--shape", "dialogsum-6m", "--hidden", "32", "--num-layers", "2", "--heads", "2", "--kv-heads", "2", "--intermediate", "64",
            "--text", text, "--text-field", "dialogue", "--val-split", "0.1", "--out", outDir, "--max-length", "32", "--batch-size", "4", "--max-steps", "4",
            "--lr", "1e-2", "--no-keep-best", "--threads", "1", .. extra,
        ];
        JsonNode Pretrain(string name, params string[] extra)
        {
            var outDir = Path.Combine(temp, name);
            var log = new StringWriter();
            Assert.True(TrainCommand.Run(TrainerVerbs.Parse("pretrain", Args(outDir, extra)), log, pretrain: true, "test") == 0, log.ToString());
            return JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "training", "report.json")))!;
        }

        var threads = TorchSharp.torch.get_num_threads();
        var whole = Pretrain("whole");
        Assert.Equal(1, whole["matmul_peak"]!["threads"]!.GetValue<int>());
        Assert.Equal(threads, TorchSharp.torch.get_num_threads());
        using (var model = ModelLoader.Load(Path.Combine(temp, "whole")))
        {
            Assert.Equal(300, model.Config.VocabSize);
            Assert.Equal(model.Tokenizer.Encode("#Person1#: Hello"), TokenizerLoader.Load(tokDir).Encode("#Person1#: Hello"));
        }

        Assert.Equal(300, whole["data"]!["model"]!["vocab_size"]!.GetValue<int>());
        var cut = Pretrain("cut", "--max-minutes", "0.000001");
        Assert.True(cut["stopped_at_time_limit"]!.GetValue<bool>());
        Assert.Equal(1, cut["steps_run"]!.GetValue<int>());
        Assert.Single(cut["evaluations"]!.AsArray());
        var resumed = Pretrain("resumed", "--resume", Path.Combine(temp, "cut", "checkpoint"));
        Assert.Equal(4, resumed["steps_run"]!.GetValue<int>());
        var bytes = (string d) => File.ReadAllBytes(Path.Combine(temp, d, "model.safetensors"));
        Assert.Equal(bytes("whole"), bytes("resumed"));
        Assert.NotEqual(bytes("whole"), bytes("cut"));
    }

    [Theory]
    [InlineData("lora")]
    [InlineData("qlora")]
    [InlineData("prompt-tuning")]
    [InlineData("full")]
    public void Live_tensors_do_not_grow_with_the_number_of_steps(string method)
    {
        // Per-thread statistics: tests on other threads do not disturb them. Whatever a run keeps alive
        // once (model, optimizer state) is the same for 1 and 3 steps; a per-step leak would differ.
        long Leftover(int steps)
        {
            var before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            Train($"leak-{method}-{steps}", "--method", method, "--max-steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--lr", "1e-3");
            return TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount - before;
        }

        Assert.Equal(Leftover(1), Leftover(3));
    }

    /// <summary>Greedy output of the server's engine without and with the adapter.</summary>
    private static (IReadOnlyList<int> Plain, IReadOnlyList<int> Adapted) Generate(LoadedModel model, string adapterDir, string prompt)
    {
        var registry = new AdapterRegistry(model.Config, model.Name, 4, 64);
        registry.Register("trained", adapterDir);
        using var engine = new InferenceEngine(model, new EngineOptions(), registry);
        var ids = model.Tokenizer.Encode(prompt);
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = 6, IgnoreEos = true };
        var plain = engine.Submit(new GenerationRequest { PromptIds = ids, Sampling = sampling }).Completion.GetAwaiter().GetResult();
        var adapted = engine.Submit(new GenerationRequest { PromptIds = ids, Sampling = sampling, Adapters = [new("trained")] }).Completion.GetAwaiter().GetResult();
        return (plain.TokenIds, adapted.TokenIds);
    }

    public void Dispose() => Directory.Delete(temp, recursive: true);
}

[CollectionDefinition(nameof(TorchGlobalState), DisableParallelization = true)]
public sealed class TorchGlobalState;
