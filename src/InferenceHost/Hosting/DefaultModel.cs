using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Tokenization;
using static TorchSharp.torch;

namespace InferenceHost.Hosting;

/// <summary>
/// The random demo model served when <c>Model:Path</c> is empty: a tiny Llama (hidden 64, 3 layers)
/// with the cl100k_base tokenizer and seeded N(0, 0.02) weights. It produces noise; it exists so the
/// server runs with no download.
/// </summary>
public static class DefaultModel
{
    public static string Directory => Path.Combine(Environment.CurrentDirectory, ".models", "default");

    /// <summary>Writes the model into <see cref="Directory"/> unless it is already there; returns the directory.</summary>
    public static string EnsureWritten()
    {
        var dir = Directory;
        if (File.Exists(Path.Combine(dir, "model.safetensors")) && File.Exists(Path.Combine(dir, "config.json")))
        {
            return dir;
        }

        System.IO.Directory.CreateDirectory(dir);
        EmbeddedTokenizer.WriteCl100kBase(dir);
        var config = new LlamaConfig
        {
            HiddenSize = 64,
            IntermediateSize = 172,
            NumHiddenLayers = 3,
            NumAttentionHeads = 8,
            NumKeyValueHeads = 4,
            VocabSize = EmbeddedTokenizer.Cl100kEmbeddingRows,
            MaxPositionEmbeddings = 2048,
            TieWordEmbeddings = true,
            EosTokenIds = [EmbeddedTokenizer.Cl100kEndOfText],
            TorchDtype = "float32",
        };

        using var scope = NewDisposeScope();
        var gen = new TorchSharp.torch.Generator(0);
        Tensor Normal(params long[] shape) => normal(0, 0.02, shape, generator: gen);
        var kv = config.NumKeyValueHeads * config.HeadDim;
        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new("model.embed_tokens.weight", Normal(config.VocabSize, config.HiddenSize)),
            new("model.norm.weight", ones(config.HiddenSize)),
        };
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            var p = $"model.layers.{i}.";
            tensors.Add(new(p + "self_attn.q_proj.weight", Normal(config.HiddenSize, config.HiddenSize)));
            tensors.Add(new(p + "self_attn.k_proj.weight", Normal(kv, config.HiddenSize)));
            tensors.Add(new(p + "self_attn.v_proj.weight", Normal(kv, config.HiddenSize)));
            tensors.Add(new(p + "self_attn.o_proj.weight", Normal(config.HiddenSize, config.HiddenSize)));
            tensors.Add(new(p + "mlp.gate_proj.weight", Normal(config.IntermediateSize, config.HiddenSize)));
            tensors.Add(new(p + "mlp.up_proj.weight", Normal(config.IntermediateSize, config.HiddenSize)));
            tensors.Add(new(p + "mlp.down_proj.weight", Normal(config.HiddenSize, config.IntermediateSize)));
            tensors.Add(new(p + "input_layernorm.weight", ones(config.HiddenSize)));
            tensors.Add(new(p + "post_attention_layernorm.weight", ones(config.HiddenSize)));
        }

        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJson());
        return dir;
    }
}
