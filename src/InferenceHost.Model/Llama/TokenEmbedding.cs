using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>The token embedding table [vocab, hidden]; also the output head when embeddings are tied.</summary>
public sealed class TokenEmbedding : nn.Module
{
#pragma warning disable IDE1006 // named as the checkpoint key
    private readonly Parameter weight; // [V, hidden]
#pragma warning restore IDE1006

    public TokenEmbedding(string name, long vocab, long hidden, ScalarType dtype, Device device) : base(name)
    {
        weight = new Parameter(empty(vocab, hidden, dtype: dtype, device: device), requires_grad: false);
        RegisterComponents();
    }

    public Tensor Weight => weight;

    /// <summary>Looks up <paramref name="ids"/> [B, T] → [B, T, hidden].</summary>
    public Tensor Forward(Tensor ids) =>
        weight.index_select(0, ids.flatten()).view(ids.shape[0], ids.shape[1], -1);
}
