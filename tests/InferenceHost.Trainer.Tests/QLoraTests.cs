using System.Text.Json.Nodes;
using InferenceHost.Adapters;
using InferenceHost.Adapters.Peft;
using InferenceHost.Adapters.Slots;
using InferenceHost.CommandLine;
using InferenceHost.Model;
using InferenceHost.Model.Llama;
using InferenceHost.Model.Quantization;
using InferenceHost.Tests.Shared;
using InferenceHost.Trainer.Data;
using InferenceHost.Trainer.Training;
using static TorchSharp.torch;

namespace InferenceHost.Trainer.Tests;

/// <summary>
/// <c>train --method qlora</c>: LoRA on the frozen base quantized at load as the server quantizes it; the adapter
/// is an ordinary PEFT one that the server serves unmerged on the same quantized base with the trainer's logits.
/// </summary>
public sealed partial class TrainerTests
{
    private static readonly LinearKind[] QLoraTargets = [LinearKind.QProj, LinearKind.VProj, LinearKind.OProj, LinearKind.DownProj];

    [Theory]
    [InlineData("int8")]
    [InlineData("nf4")]
    public void Qlora_loss_goes_down_and_the_adapter_served_unmerged_on_the_same_quantized_base_gives_the_trainers_logits(string format)
    {
        var (report, dir) = Train($"qlora-{format}", "--method", "qlora", "--quantization", format, "--rank", "4", "--alpha", "8",
            "--targets", "q_proj,v_proj,o_proj,down_proj", "--lr", "1e-2");
        var losses = Losses(report);
        Assert.True(losses[^3..].Average() < losses[..3].Average() * 0.7, $"loss did not fall: {string.Join(", ", losses)}");
        Assert.Equal("qlora", report["method"]!.GetValue<string>());
        Assert.Equal(format, report["base_quantization"]!.GetValue<string>());
        Assert.Equal(format, report["settings"]!["quantization"]!.GetValue<string>());

        // The server's load (ModelHost: ModelLoader with Model:Quantization) holds the bytes the report states, fewer than the dense base.
        var quantization = WeightQuantizationNames.Parse(format);
        using var served = ModelLoader.Load(Fixture, new ModelLoadOptions { Quantization = quantization });
        using (var dense = ModelLoader.Load(Fixture))
        {
            Assert.Equal(served.Model.WeightBytes, report["resident_weight_bytes"]!.GetValue<long>());
            Assert.True(served.Model.WeightBytes < dense.Model.WeightBytes);
        }

        // An ordinary PEFT adapter: the layout of --method lora's (and of the fixtures'), read by the server's loader.
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftNames.ConfigFile)))!.AsObject();
        var fixtureConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(TestFixtures.AdapterDir("tiny-llama", "lora-qv"), PeftNames.ConfigFile)))!.AsObject();
        Assert.Equal(fixtureConfig.Select(p => p.Key), config.Select(p => p.Key));
        using var adapter = (LoraAdapter)PeftAdapterLoader.Load("trained", dir, served.Config, served.Name, 64);
        Assert.Equal(12, adapter.Modules.Count);

        // The trainer's own forward (a qlora TrainingRun on the base loaded the same way, gradients on: the training path)
        // against the server's unmerged path (slot buffers padded to a larger rank, the adapter in slot 2, LoraBatchDelta).
        using var trainerBase = ModelLoader.Load(Fixture, new ModelLoadOptions { Quantization = quantization });
        using var run = new TrainingRun(trainerBase, new TrainOptions
        {
            Method = Method.QLora,
            Quantization = quantization,
            Lora = new LoraSettings { Rank = 4, Alpha = 8, Targets = QLoraTargets },
        });
        using (no_grad())
        {
            foreach (var (site, (a, b)) in run.Lora!.Modules)
            {
                a.copy_(adapter.Modules[site].A);
                b.copy_(adapter.Modules[site].B);
            }
        }

        run.Lora.Training = false;
        using var slots = new LoraSlotBuffers(served.Model, slots: 4, maxRank: 16, adapter.TargetKinds);
        slots.Load(2, adapter);
        var prompt = served.Tokenizer.Encode("Say: river stone\n");
        // The whole prompt (libtorch on the unpacked weights in both), then its first token alone (the server's decode kernels).
        foreach (var ids in new[] { prompt, prompt.Take(1).ToList() })
        {
            using var scope = NewDisposeScope();
            var trainer = Logits(trainerBase.Model, ids, run.Lora);
            Assert.True(trainer.requires_grad); // the training path: through the quantized layers' autograd function
            Tensor server;
            using (no_grad())
            {
                server = Logits(served.Model, ids, LoraBatchDelta.ForAll(slots, 2));
            }

            var gap = (trainer.detach() - server).abs().max().item<float>();
            // Measured: at most 1.9e-5 (nf4) and 1.4e-5 (int8) on logits of magnitude up to 40 (float32 summation order); a lost delta moves them by whole units.
            Assert.True(gap < 1e-4, $"{format}, {ids.Count} tokens: the served logits differ from the trainer's by {gap}");
        }

        var (plain, adapted) = Generate(served, dir, "Say: river stone\n");
        Assert.NotEqual(plain, adapted);
    }

    [Fact]
    public void Qlora_gradients_reach_every_lora_matrix_through_the_quantized_layers_and_none_reach_the_base()
    {
        using var scope = NewDisposeScope();
        using var quantized = ModelLoader.Load(Fixture, new ModelLoadOptions { Quantization = WeightQuantization.Nf4 });
        // The reference: a dense base holding exactly the dequantized weights, trained by plain --method lora.
        using var dense = ModelLoader.Load(Fixture);
        using (no_grad())
        {
            foreach (var linear in dense.Model.Linears)
            {
                linear.Weight.copy_(quantized.Model.Linear(linear.Site).Quantized!.Dequantize(ScalarType.Float32));
            }
        }

        var settings = new LoraSettings { Rank = 4, Alpha = 8, Targets = LinearSite.AllKinds };
        using var q = new TrainingRun(quantized, new TrainOptions { Method = Method.QLora, Quantization = WeightQuantization.Nf4, Lora = settings });
        using var d = new TrainingRun(dense, new TrainOptions { Method = Method.Lora, Lora = settings });
        using var generator = new TorchSharp.torch.Generator(11);
        using (no_grad())
        {
            // B starts at zero, which would leave A's gradient zero: the same random B in both runs (A is the same from the seed).
            foreach (var (site, (_, b)) in q.Lora!.Modules)
            {
                b.copy_(randn(b.shape, generator: generator) * 0.05);
                d.Lora!.Modules[site].B.copy_(b);
            }
        }

        var ids = quantized.Tokenizer.Encode("Say: river stone\nbanana banana").Select(i => (long)i).ToArray();
        var labels = ids.Skip(1).Append(Batch.Ignore).ToArray();
        var batch = new Batch(ids, labels, [ids.Length], 1, ids.Length);
        q.LossSum(batch).backward();
        d.LossSum(batch).backward();

        Assert.Equal(LinearSite.AllKinds.Count * quantized.Config.NumHiddenLayers, q.Lora.Modules.Count);
        foreach (var (site, (a, b)) in q.Lora.Modules)
        {
            foreach (var (mine, reference, name) in new[] { (a, d.Lora!.Modules[site].A, "A"), (b, d.Lora.Modules[site].B, "B") })
            {
                var g = mine.grad ?? throw new Xunit.Sdk.XunitException($"{site} {name}: no gradient");
                var scale = reference.grad!.abs().max().item<float>();
                Assert.True(scale > 0, $"{site} {name}: a zero gradient");
                Assert.True((g - reference.grad).abs().max().item<float>() <= 1e-4 * scale, $"{site} {name}: not the dense reference's gradient");
            }
        }

        // Nothing of the base takes a gradient: the quantized codes and scales, the embeddings, norms and head.
        Assert.All(quantized.Model.Linears, l => Assert.True(l.Quantized!.Data.grad is null && l.Quantized.Scales.grad is null && !l.Quantized.Data.requires_grad));
        Assert.All(quantized.Model.parameters(), p => Assert.True(p.grad is null && !p.requires_grad));
        // Full fine-tuning on a quantized base would train only its embeddings and norms: refused.
        var e = Assert.Throws<ArgumentException>(() => new TrainingRun(quantized, new TrainOptions { Method = Method.Full }));
        Assert.Contains("only qlora trains on a quantized base", e.Message);
    }

    [Theory]
    [InlineData("full", "nf4", "--quantization nf4: only --method qlora trains on a quantized base (--method full keeps the base dense)")]
    [InlineData("lora", "int8", "--quantization int8: only --method qlora trains on a quantized base (--method lora keeps the base dense)")]
    [InlineData("qlora", "int4", "--quantization: 'int4' is not one of none, int8, nf4")]
    [InlineData("qlora", "none", "--quantization none: --method qlora trains on a quantized base (int8 or nf4); for LoRA on the dense base use --method lora")]
    public void A_bad_quantization_is_refused_before_training(string method, string format, string message)
    {
        var e = Assert.Throws<CliException>(() => Train($"bad-{method}-{format}", "--method", method, "--quantization", format));
        Assert.Equal(message, e.Message);
        Assert.False(Directory.Exists(Path.Combine(temp, $"bad-{method}-{format}")));
    }

    /// <summary>Logits [T, vocab] of one prompt with a LoRA delta.</summary>
    private static Tensor Logits(LlamaForCausalLM model, IReadOnlyList<int> ids, ILinearDelta delta)
    {
        var tokens = tensor(ids.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64).view(1, -1); // [1, T]
        return model.Forward(new ForwardBatch
        {
            Embeddings = model.Embed(tokens), Starts = [0], Lengths = [ids.Count], Logits = LogitsMode.All, Delta = delta,
        })[0]; // [T, V]
    }
}
