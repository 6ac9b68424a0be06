using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Trainer.Training;

/// <summary>
/// Shapes <c>pretrain --shape</c> starts from: <see cref="SyntheticCheckpoint.Shapes"/> (the benchmark shapes)
/// plus shapes for from-scratch pre-training on 2 CPU cores, sized so the FLOPs go into the layers rather than
/// the softmax. Their vocabulary is the tokenizer's (<c>--tokenizer</c>, e.g. a 4,096-id <c>train-tokenizer</c> BPE).
/// </summary>
public static class PretrainShapes
{
    /// <summary>
    /// hidden 256, 8 layers, 4 heads of 64, SwiGLU 688 (≈ 8/3·256, a multiple of 16), tied embeddings, 512
    /// positions: 6.32 M weights in the layers; with a 4,096-id vocabulary the table adds 1.05 M (86 % of the
    /// 7.4 M weights are outside it, against 16 % for the 4.9 M / 32 k shape of the first DialogSum run).
    /// </summary>
    public static LlamaConfig Dialogsum6M { get; } = new()
    {
        HiddenSize = 256,
        NumHiddenLayers = 8,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 4,
        IntermediateSize = 688,
        VocabSize = 4096,
        TieWordEmbeddings = true,
        MaxPositionEmbeddings = 512,
        RmsNormEps = 1e-5,
        RopeTheta = 10000,
    };

    public static IReadOnlyDictionary<string, LlamaConfig> All { get; } =
        SyntheticCheckpoint.Shapes.Append(new("dialogsum-6m", Dialogsum6M)).ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>All weights, and those outside the embedding table and the (untied) lm_head.</summary>
    public static (long Total, long NonEmbedding) Parameters(LlamaConfig c)
    {
        var total = SyntheticCheckpoint.ExpectedTensors(c).Sum(t => t.Shape.Aggregate(1L, (x, y) => x * y));
        var embedding = (long)c.VocabSize * c.HiddenSize * (c.TieWordEmbeddings ? 1 : 2);
        return (total, total - embedding);
    }
}
