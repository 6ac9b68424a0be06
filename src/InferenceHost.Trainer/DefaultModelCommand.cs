using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Tokenization;
using static TorchSharp.torch;

namespace InferenceHost.Trainer;

/// <summary>
/// <c>default-model --out DIR</c>: writes the server's embedded demo model (hidden 64, 3 layers, cl100k_base,
/// N(0, 0.02) weights from generator seed 0), byte for byte as src/InferenceHost/Hosting/DefaultModel.cs
/// does on the server branch, so the demo adapters can be trained on exactly the base the server serves.
/// Kept in step by hand: the tensor order below is the generator's draw order and must match.
/// </summary>
public static class DefaultModelCommand
{
    public static int Run(Args args, TextWriter log)
    {
        var dir = args.Get("out") ?? Path.Combine(".models", "default");
        args.RejectUnknown();
        Write(dir);
        log.WriteLine($"wrote the default demo model to {dir}");
        return 0;
    }

    public static void Write(string dir)
    {
        Directory.CreateDirectory(dir);
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
    }
}
