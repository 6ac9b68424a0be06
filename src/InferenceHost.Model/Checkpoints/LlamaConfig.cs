using System.Text;
using System.Text.Json;

namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// RoPE frequency scaling from config.json. <see cref="RopeType"/> is <c>linear</c>, <c>dynamic</c> or
/// <c>llama3</c>; the last uses the low/high frequency factors and the original context length
/// (Llama 3.1). A <c>default</c> scaling is read as no scaling.
/// </summary>
public sealed record RopeScaling(
    string RopeType,
    double Factor,
    double? LowFreqFactor = null,
    double? HighFreqFactor = null,
    int? OriginalMaxPositionEmbeddings = null);

/// <summary>
/// The parts of a Hugging Face Llama or Mistral config.json the model needs. <see cref="Load"/> refuses
/// anything the Llama modules would compute wrongly (biases, another activation, head counts that do not
/// divide) with an error naming the file and the field.
/// </summary>
public sealed record LlamaConfig
{
    private int? _numKeyValueHeads;
    private int? _headDim;

    public string ModelType { get; init; } = "llama";
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }

    /// <summary>Key/value heads (grouped-query attention); defaults to <see cref="NumAttentionHeads"/>.</summary>
    public int NumKeyValueHeads { get => _numKeyValueHeads ?? NumAttentionHeads; init => _numKeyValueHeads = value; }

    /// <summary>Per-head width; defaults to hidden / heads.</summary>
    public int HeadDim
    {
        get => _headDim ?? (NumAttentionHeads > 0 ? HiddenSize / NumAttentionHeads : 0);
        init => _headDim = value;
    }

    public required int VocabSize { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    public RopeScaling? RopeScaling { get; init; }
    public bool TieWordEmbeddings { get; init; }
    public int? BosTokenId { get; init; }
    public int[] EosTokenIds { get; init; } = [];
    public string? TorchDtype { get; init; }

    /// <summary>The <c>torch_dtype</c> a checkpoint of <paramref name="dtype"/> declares: float32, bfloat16 or float16.</summary>
    public static string TorchDtypeName(TorchSharp.torch.ScalarType dtype) => dtype switch
    {
        TorchSharp.torch.ScalarType.Float32 => "float32",
        TorchSharp.torch.ScalarType.BFloat16 => "bfloat16",
        TorchSharp.torch.ScalarType.Float16 => "float16",
        _ => throw new ArgumentException($"checkpoints are float32, bfloat16 or float16, not {dtype}", nameof(dtype)),
    };

    public string HiddenAct { get; init; } = "silu";

    /// <summary>Mistral's sliding attention window, when the config sets one; null for full attention.</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>Whether head_dim was given explicitly rather than derived from hidden / heads.</summary>
    public bool HasExplicitHeadDim => _headDim is not null;

    public static LlamaConfig Load(string configJsonPath) => LlamaConfigParser.Load(configJsonPath);

    /// <summary>Checks the values a parsed or hand-built config must satisfy; <paramref name="source"/> names it in errors.</summary>
    public void Validate(string source)
    {
        void Fail(string problem) => throw new CheckpointException(source, problem);

        if (ModelType is not ("llama" or "mistral"))
        {
            Fail($"model_type \"{ModelType}\" is not supported (only llama and mistral)");
        }

        if (HiddenAct != "silu")
        {
            Fail($"hidden_act \"{HiddenAct}\" is not supported (only silu)");
        }

        foreach (var (name, value) in new (string, long)[]
        {
            ("hidden_size", HiddenSize), ("intermediate_size", IntermediateSize), ("num_hidden_layers", NumHiddenLayers),
            ("num_attention_heads", NumAttentionHeads), ("num_key_value_heads", NumKeyValueHeads),
            ("vocab_size", VocabSize), ("max_position_embeddings", MaxPositionEmbeddings),
        })
        {
            if (value <= 0)
            {
                Fail($"{name} is {value}; it must be positive");
            }
        }

        if (_headDim is null && HiddenSize % NumAttentionHeads != 0)
        {
            Fail($"hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads} (and no head_dim is given)");
        }

        if (HeadDim <= 0 || HeadDim % 2 != 0)
        {
            Fail($"head_dim is {HeadDim}; it must be positive and even (RoPE rotates pairs)");
        }

        if (NumAttentionHeads % NumKeyValueHeads != 0)
        {
            Fail($"num_attention_heads {NumAttentionHeads} is not divisible by num_key_value_heads {NumKeyValueHeads}");
        }

        if (!(RmsNormEps > 0) || !double.IsFinite(RmsNormEps))
        {
            Fail($"rms_norm_eps is {RmsNormEps}; it must be positive");
        }

        if (!(RopeTheta > 0) || !double.IsFinite(RopeTheta))
        {
            Fail($"rope_theta is {RopeTheta}; it must be positive");
        }

        if (SlidingWindow is <= 0)
        {
            Fail($"sliding_window is {SlidingWindow}; it must be positive or null");
        }

        foreach (var (name, id) in (BosTokenId is { } b ? new[] { ("bos_token_id", b) } : []).Concat(EosTokenIds.Select(e => ("eos_token_id", e))))
        {
            if (id < 0 || id >= VocabSize)
            {
                Fail($"{name} {id} is outside the vocabulary [0, {VocabSize})");
            }
        }

        if (RopeScaling is { } r)
        {
            if (r.RopeType is not ("linear" or "dynamic" or "llama3"))
            {
                Fail($"rope_scaling type \"{r.RopeType}\" is not supported (only linear, dynamic and llama3)");
            }

            if (!(r.Factor > 0) || !double.IsFinite(r.Factor))
            {
                Fail($"rope_scaling factor is {r.Factor}; it must be positive");
            }

            if (r.RopeType == "llama3"
                && !(r.LowFreqFactor > 0 && r.HighFreqFactor > r.LowFreqFactor && r.OriginalMaxPositionEmbeddings > 0))
            {
                Fail("llama3 rope_scaling needs low_freq_factor > 0, high_freq_factor > low_freq_factor and original_max_position_embeddings > 0");
            }
        }
    }

    /// <summary>A Hugging Face-style config.json for this configuration.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("architectures");
            w.WriteStringValue(ModelType == "mistral" ? "MistralForCausalLM" : "LlamaForCausalLM");
            w.WriteEndArray();
            w.WriteString("model_type", ModelType);
            w.WriteNumber("hidden_size", HiddenSize);
            w.WriteNumber("intermediate_size", IntermediateSize);
            w.WriteNumber("num_hidden_layers", NumHiddenLayers);
            w.WriteNumber("num_attention_heads", NumAttentionHeads);
            w.WriteNumber("num_key_value_heads", NumKeyValueHeads);
            if (HasExplicitHeadDim)
            {
                w.WriteNumber("head_dim", HeadDim);
            }

            w.WriteNumber("vocab_size", VocabSize);
            w.WriteNumber("max_position_embeddings", MaxPositionEmbeddings);
            w.WriteNumber("rms_norm_eps", RmsNormEps);
            w.WriteNumber("rope_theta", RopeTheta);
            w.WritePropertyName("rope_scaling");
            if (RopeScaling is { } r)
            {
                w.WriteStartObject();
                w.WriteString("rope_type", r.RopeType);
                w.WriteNumber("factor", r.Factor);
                WriteOptional(w, "low_freq_factor", r.LowFreqFactor);
                WriteOptional(w, "high_freq_factor", r.HighFreqFactor);
                WriteOptional(w, "original_max_position_embeddings", r.OriginalMaxPositionEmbeddings);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNullValue();
            }

            w.WriteBoolean("tie_word_embeddings", TieWordEmbeddings);
            w.WriteString("hidden_act", HiddenAct);
            w.WriteBoolean("attention_bias", false);
            w.WriteBoolean("mlp_bias", false);
            WriteOptional(w, "bos_token_id", BosTokenId);
            w.WritePropertyName("eos_token_id");
            if (EosTokenIds.Length == 1)
            {
                w.WriteNumberValue(EosTokenIds[0]);
            }
            else if (EosTokenIds.Length == 0)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteStartArray();
                foreach (var id in EosTokenIds)
                {
                    w.WriteNumberValue(id);
                }

                w.WriteEndArray();
            }

            if (SlidingWindow is { } window)
            {
                w.WriteNumber("sliding_window", window);
            }

            if (TorchDtype is not null)
            {
                w.WriteString("torch_dtype", TorchDtype);
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
