using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Model.Llama;

public static class LinearShapes
{
    /// <summary>Input and output features of a linear module of this config (its weight is [out, in]).</summary>
    public static (long In, long Out) LinearShape(this LlamaConfig c, LinearKind kind) => kind switch
    {
        LinearKind.QProj => (c.HiddenSize, (long)c.NumAttentionHeads * c.HeadDim),
        LinearKind.KProj or LinearKind.VProj => (c.HiddenSize, (long)c.NumKeyValueHeads * c.HeadDim),
        LinearKind.OProj => ((long)c.NumAttentionHeads * c.HeadDim, c.HiddenSize),
        LinearKind.GateProj or LinearKind.UpProj => (c.HiddenSize, c.IntermediateSize),
        LinearKind.DownProj => (c.IntermediateSize, c.HiddenSize),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
