using System.Text.Json;

namespace InferenceHost.Model.Checkpoints;

/// <summary>Reads config.json with strict types: a field that is present must have the JSON type it should.</summary>
internal static class LlamaConfigParser
{
    public static LlamaConfig Load(string path)
    {
        using var doc = StrictJson.ParseFile(path, "the model config");
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(path, $"the model config is a JSON {root.ValueKind}, not an object");
        }

        var f = new Fields(path, root);
        var modelType = f.String("model_type") ?? throw new CheckpointException(path, "model_type is missing");
        if (modelType is not ("llama" or "mistral"))
        {
            // Checked before the sizes: a config for another architecture should say so, not complain about fields.
            throw new CheckpointException(path, $"model_type \"{modelType}\" is not supported (only llama and mistral)");
        }

        foreach (var bias in new[] { "attention_bias", "mlp_bias" })
        {
            if (f.Bool(bias) == true)
            {
                throw new CheckpointException(path, $"{bias} is true; Llama modules here have no bias terms, so these weights cannot be used");
            }
        }

        var heads = f.RequiredInt("num_attention_heads");
        var config = new LlamaConfig
        {
            ModelType = modelType,
            HiddenSize = f.RequiredInt("hidden_size"),
            IntermediateSize = f.RequiredInt("intermediate_size"),
            NumHiddenLayers = f.RequiredInt("num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = f.Int("num_key_value_heads") ?? heads,
            VocabSize = f.RequiredInt("vocab_size"),
            MaxPositionEmbeddings = f.Int("max_position_embeddings") ?? 2048,
            RmsNormEps = f.Double("rms_norm_eps") ?? 1e-6,
            RopeTheta = f.Double("rope_theta") ?? 10000,
            RopeScaling = ReadRopeScaling(path, root),
            TieWordEmbeddings = f.Bool("tie_word_embeddings") ?? false,
            BosTokenId = f.Int("bos_token_id"),
            EosTokenIds = ReadEos(path, root),
            TorchDtype = f.String("torch_dtype") ?? f.String("dtype"),
            HiddenAct = f.String("hidden_act") ?? "silu",
            SlidingWindow = f.Int("sliding_window"),
        };
        if (f.Int("head_dim") is { } headDim)
        {
            config = config with { HeadDim = headDim };
        }

        config.Validate(path);
        return config;
    }

    private static RopeScaling? ReadRopeScaling(string path, JsonElement root)
    {
        if (!root.TryGetProperty("rope_scaling", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(path, $"rope_scaling is a JSON {value.ValueKind}, not an object or null");
        }

        var f = new Fields(path, value, "rope_scaling.");
        var type = f.String("rope_type") ?? f.String("type")
            ?? throw new CheckpointException(path, "rope_scaling has neither rope_type nor type");
        if (type == "default")
        {
            return null;
        }

        return new RopeScaling(
            type,
            f.Double("factor") ?? throw new CheckpointException(path, "rope_scaling.factor is missing"),
            f.Double("low_freq_factor"),
            f.Double("high_freq_factor"),
            f.Int("original_max_position_embeddings"));
    }

    internal static int[] ReadEos(string path, JsonElement root)
    {
        if (!root.TryGetProperty("eos_token_id", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var single))
        {
            return [single];
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            var ids = new List<int>();
            foreach (var item in value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var id))
                {
                    throw new CheckpointException(path, $"eos_token_id holds {item.GetRawText()}, not an integer");
                }

                ids.Add(id);
            }

            return [.. ids];
        }

        throw new CheckpointException(path, $"eos_token_id is {value.GetRawText()}; expected an integer, a list of integers or null");
    }

    /// <summary>Typed access to one object's fields; absent and null both read as null.</summary>
    private readonly struct Fields(string path, JsonElement obj, string prefix = "")
    {
        private JsonElement? Get(string name) =>
            obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

        private CheckpointException WrongType(string name, JsonElement v, string expected) =>
            new(path, $"{prefix}{name} is {Shorten(v.GetRawText())}; expected {expected}");

        public int RequiredInt(string name) =>
            Int(name) ?? throw new CheckpointException(path, $"{prefix}{name} is missing");

        public int? Int(string name) => Get(name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Number } v when v.TryGetInt32(out var i) => i,
            { } v => throw WrongType(name, v, "an integer"),
        };

        public double? Double(string name) => Get(name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Number } v => v.GetDouble(),
            { } v => throw WrongType(name, v, "a number"),
        };

        public bool? Bool(string name) => Get(name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            { } v => throw WrongType(name, v, "true or false"),
        };

        public string? String(string name) => Get(name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } v => v.GetString(),
            { } v => throw WrongType(name, v, "a string"),
        };

        private static string Shorten(string raw) => raw.Length > 60 ? raw[..60] + "..." : raw;
    }
}
