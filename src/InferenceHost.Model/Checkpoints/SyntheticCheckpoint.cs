using System.Text;
using TorchSharp;

namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// Seeded random Llama checkpoints in Hugging Face layout, for tests and benchmarks at real model sizes
/// without downloading weights. Each tensor is drawn from its own generator, seeded from the checkpoint
/// seed and a stable hash of the tensor's name, and streamed to disk one at a time, so the bytes do not
/// depend on write order and a 7B checkpoint never has to fit in memory.
/// </summary>
public static class SyntheticCheckpoint
{
    /// <summary>Standard deviation of every weight matrix (the usual Llama initializer range).</summary>
    public const double InitStd = 0.02;

    // Token ids of the Llama 2 SentencePiece model these checkpoints ship with: <s> = 1, </s> = 2.
    private static LlamaConfig Shape(int hidden, int layers, int heads, int kvHeads, int intermediate, int vocab,
        bool tied, int maxPositions) => new()
        {
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            IntermediateSize = intermediate,
            VocabSize = vocab,
            TieWordEmbeddings = tied,
            MaxPositionEmbeddings = maxPositions,
            RmsNormEps = 1e-5,
            RopeTheta = 10000,
            BosTokenId = 1,
            EosTokenIds = [2],
        };

    public static IReadOnlyDictionary<string, LlamaConfig> Shapes { get; } = new Dictionary<string, LlamaConfig>
    {
        ["tiny"] = Shape(64, 3, 8, 4, 172, 32000, tied: true, maxPositions: 256),
        ["tinyllama-1.1b"] = Shape(2048, 22, 32, 4, 5632, 32000, tied: false, maxPositions: 2048),
        ["llama-2-7b"] = Shape(4096, 32, 32, 32, 11008, 32000, tied: false, maxPositions: 4096),
        ["smollm-135m"] = Shape(576, 30, 9, 3, 1536, 49152, tied: true, maxPositions: 2048),
    };

    /// <summary>Hugging Face tensor names and shapes of a Llama model, in module order.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> ExpectedTensors(LlamaConfig c)
    {
        long hidden = c.HiddenSize, inter = c.IntermediateSize, q = (long)c.NumAttentionHeads * c.HeadDim,
            kv = (long)c.NumKeyValueHeads * c.HeadDim;
        var list = new List<(string, long[])> { ("model.embed_tokens.weight", [c.VocabSize, hidden]) };
        for (var i = 0; i < c.NumHiddenLayers; i++)
        {
            var p = $"model.layers.{i}.";
            list.Add((p + "input_layernorm.weight", [hidden]));
            list.Add((p + "self_attn.q_proj.weight", [q, hidden]));
            list.Add((p + "self_attn.k_proj.weight", [kv, hidden]));
            list.Add((p + "self_attn.v_proj.weight", [kv, hidden]));
            list.Add((p + "self_attn.o_proj.weight", [hidden, q]));
            list.Add((p + "post_attention_layernorm.weight", [hidden]));
            list.Add((p + "mlp.gate_proj.weight", [inter, hidden]));
            list.Add((p + "mlp.up_proj.weight", [inter, hidden]));
            list.Add((p + "mlp.down_proj.weight", [hidden, inter]));
        }

        list.Add(("model.norm.weight", [hidden]));
        if (!c.TieWordEmbeddings)
        {
            list.Add(("lm_head.weight", [c.VocabSize, hidden]));
        }

        return list;
    }

    /// <summary>Writes one of the named <see cref="Shapes"/>; the vocabulary is the tokenizer's unless <paramref name="vocabSize"/> is given.</summary>
    public static void Write(string dir, string shape, int seed, string tokenizerModelPath, torch.ScalarType dtype,
        int? vocabSize = null)
    {
        if (!Shapes.TryGetValue(shape, out var config))
        {
            throw new ArgumentException($"unknown shape \"{shape}\"; known: {string.Join(", ", Shapes.Keys)}", nameof(shape));
        }

        Write(dir, vocabSize is { } v ? config with { VocabSize = v } : config, seed, tokenizerModelPath, dtype, vocabFromTokenizer: vocabSize is null);
    }

    /// <summary>
    /// Writes a checkpoint for any valid Llama config, with the tokenizer at <paramref name="tokenizerModelPath"/>
    /// (<see cref="TokenizerFiles"/>): BOS/EOS ids come from that tokenizer, and with
    /// <paramref name="vocabFromTokenizer"/> so does the vocabulary size.
    /// </summary>
    public static void Write(string dir, LlamaConfig config, int seed, string tokenizerModelPath, torch.ScalarType dtype, bool vocabFromTokenizer = false)
    {
        var dtypeName = LlamaConfig.TorchDtypeName(dtype);
        config.Validate(Path.Combine(dir, "config.json"));
        var tokenizer = TokenizerFiles.Install(tokenizerModelPath, dir);
        config = config with
        {
            TorchDtype = dtypeName,
            VocabSize = vocabFromTokenizer ? tokenizer.VocabSize : config.VocabSize,
            BosTokenId = tokenizer.BosId ?? config.BosTokenId,
            EosTokenIds = tokenizer.EosId is { } eos ? [eos] : config.EosTokenIds,
        };

        var shapes = ExpectedTensors(config).ToDictionary(t => t.Name, t => t.Shape);
        var fileDType = SafetensorsDType.FromScalarType(dtype);
        SafetensorsWriter.Write(
            Path.Combine(dir, CheckpointReader.SingleFile),
            shapes.Select(kv => new TensorHeader(kv.Key, fileDType, kv.Value)),
            (header, stream) =>
            {
                using var scope = torch.NewDisposeScope();
                using var _ = torch.no_grad();
                TensorBytes.WriteTo(Generate(header.Name, header.Shape, seed, dtype), stream);
            },
            new Dictionary<string, string> { ["format"] = "pt" });

        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJson());
    }

    /// <summary>One tensor's values: ones for RMSNorm weights, N(0, 0.02²) otherwise.</summary>
    private static torch.Tensor Generate(string name, long[] shape, int seed, torch.ScalarType dtype)
    {
        if (name.EndsWith("norm.weight", StringComparison.Ordinal))
        {
            return torch.ones(shape, dtype);
        }

        using var generator = new torch.Generator(TensorSeed(seed, name));
        // Drawn in float32 and rounded once, so every dtype holds the same underlying numbers.
        return torch.randn(shape, torch.ScalarType.Float32, generator: generator).mul_(InitStd).to(dtype);
    }

    /// <summary>Seed for one tensor: FNV-1a of the name (stable across runs, unlike string.GetHashCode) mixed with the seed.</summary>
    internal static ulong TensorSeed(int seed, string name)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return (hash ^ ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL)) & long.MaxValue;
    }
}
