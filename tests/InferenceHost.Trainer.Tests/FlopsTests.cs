using InferenceHost.Model;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Tests.Shared;
using InferenceHost.Trainer.Training;

namespace InferenceHost.Trainer.Tests;

[Collection(nameof(TorchGlobalState))]
public sealed class FlopsTests
{
    // hidden 32, 2 layers, 4 heads of 8 (q 32), 2 KV heads (kv 16), SwiGLU 64, vocab 100.
    private static readonly LlamaConfig Small = new()
    {
        HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, IntermediateSize = 64, VocabSize = 100,
    };

    [Fact]
    public void Matmul_weights_and_flops_per_token_match_a_hand_count()
    {
        // Per layer: q 32·32 = 1024, k and v 32·16 = 512 each, o 1024, gate/up/down 3·32·64 = 6144 → 9216;
        // two layers 18,432, plus the lm_head 100·32 = 3,200.
        Assert.Equal(21_632, Flops.MatmulParameters(Small));
        // Attention at T = 16: 12 · 2 layers · 32 · 16 = 12,288.
        Assert.Equal((6 * 21_632) + 12_288, Flops.PerToken(Small, Method.Pretrain, 0, 16));
        Assert.Equal((6 * 21_632) + 12_288, Flops.PerToken(Small, Method.Full, 0, 16));
        // Frozen base: forward and input gradient only (4·N), the 1,000 LoRA weights get all three (6 each).
        Assert.Equal((4 * 21_632) + 6_000 + 12_288, Flops.PerToken(Small, Method.Lora, 1_000, 16));
        Assert.Equal((4 * 21_632) + 12_288, Flops.PerToken(Small, Method.PromptTuning, 0, 16));
        // Attention grows with the row length, the dense part does not.
        Assert.Equal(12_288, Flops.PerToken(Small, Method.Full, 0, 32) - Flops.PerToken(Small, Method.Full, 0, 16));
    }

    [Fact]
    public void Matmul_weights_are_the_real_models_weights_less_its_norms()
    {
        using var model = ModelLoader.Load(TestFixtures.ModelDir("tiny-llama"));
        // Tied: the embedding table is the lm_head's matmul, counted once; norms are no matmul.
        var counted = model.Model.named_parameters().Where(p => !p.name.Contains("norm", StringComparison.Ordinal)).Sum(p => p.parameter.numel());
        Assert.True(model.Config.TieWordEmbeddings);
        Assert.Equal(counted, Flops.MatmulParameters(model.Config));
    }

    [Fact]
    public void The_matmul_peak_is_a_finite_rate_of_the_models_shapes()
    {
        var peak = MatmulPeak.Measure(Small, 128, secondsPerShape: 0.02);
        Assert.Equal([(128, 32, 64), (128, 32, 100), (1024, 1024, 1024)], peak.Gemms.Select(g => (g.M, g.K, g.N)));
        Assert.All(peak.Gemms, g => Assert.True(g.FlopsPerSecond is > 1e6 and < 1e15, $"{g}"));
        Assert.Equal(peak.Gemms.Max(g => g.FlopsPerSecond), peak.FlopsPerSecond);
    }
}
