using System.Text.Json.Nodes;
using InferenceHost.Model.Checkpoints;
using static InferenceHost.Model.Tests.Checkpoints.TestFiles;

namespace InferenceHost.Model.Tests.Checkpoints;

public class LlamaConfigTests
{
    // Meta-Llama-3.1-8B's config.json, as published.
    private const string Llama31 = """
        {"architectures":["LlamaForCausalLM"],"attention_bias":false,"attention_dropout":0.0,"bos_token_id":128000,
         "eos_token_id":[128001,128008,128009],"hidden_act":"silu","hidden_size":4096,"initializer_range":0.02,
         "intermediate_size":14336,"max_position_embeddings":131072,"mlp_bias":false,"model_type":"llama",
         "num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":8,"pretraining_tp":1,"rms_norm_eps":1e-05,
         "rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},
         "rope_theta":500000.0,"tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.43.0.dev0",
         "use_cache":true,"vocab_size":128256}
        """;

    private static string Write(TempDir dir, string json) => dir.Text("config.json", json);

    [Fact]
    public void ReadsTheFixtureConfigs()
    {
        var f32 = LlamaConfig.Load(Path.Combine(Fixture("tiny-llama"), "config.json"));
        Assert.Equal((64, 172, 3, 8, 4, 8, 32000, 256), (f32.HiddenSize, f32.IntermediateSize, f32.NumHiddenLayers,
            f32.NumAttentionHeads, f32.NumKeyValueHeads, f32.HeadDim, f32.VocabSize, f32.MaxPositionEmbeddings));
        Assert.Equal((1e-5, 10000.0, true, "float32"), (f32.RmsNormEps, f32.RopeTheta, f32.TieWordEmbeddings, f32.TorchDtype));
        Assert.Equal(1, f32.BosTokenId);
        Assert.Equal([2], f32.EosTokenIds);
        Assert.Null(f32.RopeScaling);

        var bf16 = LlamaConfig.Load(Path.Combine(Fixture("tiny-llama-bf16"), "config.json"));
        Assert.Equal((500000.0, false, "bfloat16"), (bf16.RopeTheta, bf16.TieWordEmbeddings, bf16.TorchDtype));
    }

    [Fact]
    public void ReadsLlama31WithRopeScalingAndSeveralEosIds()
    {
        using var dir = new TempDir();
        var c = LlamaConfig.Load(Write(dir, Llama31));
        Assert.Equal(new RopeScaling("llama3", 8, 1, 4, 8192), c.RopeScaling);
        Assert.Equal([128001, 128008, 128009], c.EosTokenIds);
        Assert.Equal(128, c.HeadDim);
        Assert.False(c.HasExplicitHeadDim);
    }

    [Fact]
    public void DefaultsApplyWhenFieldsAreAbsent()
    {
        using var dir = new TempDir();
        var c = LlamaConfig.Load(Write(dir, """
            {"model_type":"mistral","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,
             "num_attention_heads":4,"vocab_size":100,"eos_token_id":null,"rope_scaling":null}
            """));
        Assert.Equal((4, 16, 10000.0, false, "silu"), (c.NumKeyValueHeads, c.HeadDim, c.RopeTheta, c.TieWordEmbeddings, c.HiddenAct));
        Assert.Null(c.BosTokenId);
        Assert.Empty(c.EosTokenIds);
    }

    [Fact]
    public void ExplicitHeadDimNeedNotDivideHidden()
    {
        using var dir = new TempDir();
        var c = LlamaConfig.Load(Write(dir, With(Llama31, o => { o["hidden_size"] = 5120; o["num_attention_heads"] = 30; o["num_key_value_heads"] = 6; o["head_dim"] = 128; })));
        Assert.Equal(128, c.HeadDim);
        Assert.True(c.HasExplicitHeadDim);
    }

    [Fact]
    public void ToJsonRoundTrips()
    {
        using var dir = new TempDir();
        var original = LlamaConfig.Load(Write(dir, Llama31));
        var json = original.ToJson();
        var again = LlamaConfig.Load(Write(dir, json));
        Assert.Equal(json, again.ToJson());
        Assert.Equal(original with { EosTokenIds = again.EosTokenIds }, again);
        Assert.Equal(original.EosTokenIds, again.EosTokenIds);
    }

    [Theory]
    [InlineData("model_type", "\"qwen2\"", "model_type \"qwen2\" is not supported")]
    [InlineData("model_type", null, "model_type is missing")]
    [InlineData("hidden_size", null, "hidden_size is missing")]
    [InlineData("hidden_size", "\"4096\"", "hidden_size is \"4096\"; expected an integer")]
    [InlineData("hidden_size", "4096.5", "hidden_size is 4096.5; expected an integer")]
    [InlineData("hidden_size", "0", "hidden_size is 0; it must be positive")]
    [InlineData("vocab_size", "-5", "vocab_size is -5")]
    [InlineData("num_hidden_layers", "0", "num_hidden_layers is 0")]
    [InlineData("num_attention_heads", "30", "hidden_size 4096 is not divisible by num_attention_heads 30")]
    [InlineData("num_key_value_heads", "5", "num_attention_heads 32 is not divisible by num_key_value_heads 5")]
    [InlineData("rms_norm_eps", "\"small\"", "rms_norm_eps is \"small\"; expected a number")]
    [InlineData("rms_norm_eps", "0", "rms_norm_eps is 0")]
    [InlineData("rope_theta", "-1", "rope_theta is -1")]
    [InlineData("tie_word_embeddings", "1", "tie_word_embeddings is 1; expected true or false")]
    [InlineData("hidden_act", "\"gelu\"", "hidden_act \"gelu\" is not supported")]
    [InlineData("attention_bias", "true", "attention_bias is true")]
    [InlineData("mlp_bias", "true", "mlp_bias is true")]
    [InlineData("eos_token_id", "\"eos\"", "eos_token_id is \"eos\"")]
    [InlineData("eos_token_id", "[1, \"x\"]", "eos_token_id holds \"x\"")]
    [InlineData("eos_token_id", "200000", "eos_token_id 200000 is outside the vocabulary")]
    [InlineData("bos_token_id", "1.5", "bos_token_id is 1.5")]
    [InlineData("rope_scaling", "[]", "rope_scaling is a JSON Array")]
    [InlineData("rope_scaling", "{\"factor\":2}", "rope_scaling has neither rope_type nor type")]
    [InlineData("rope_scaling", "{\"type\":\"yarn\",\"factor\":2}", "rope_scaling type \"yarn\" is not supported")]
    [InlineData("rope_scaling", "{\"rope_type\":\"linear\"}", "rope_scaling.factor is missing")]
    [InlineData("rope_scaling", "{\"rope_type\":\"llama3\",\"factor\":8}", "llama3 rope_scaling needs")]
    [InlineData("rope_scaling", "{\"rope_type\":\"llama3\",\"factor\":8,\"low_freq_factor\":\"1\"}", "rope_scaling.low_freq_factor is \"1\"")]
    [InlineData("head_dim", "63", "head_dim is 63")]
    public void InvalidFieldIsNamed(string field, string? json, string fragment)
    {
        using var dir = new TempDir();
        var path = Write(dir, With(Llama31, o =>
        {
            if (json is null)
            {
                o.Remove(field);
            }
            else
            {
                o[field] = JsonNode.Parse(json);
            }
        }));
        var e = Assert.Throws<CheckpointException>(() => LlamaConfig.Load(path));
        AssertMessage(e, path, fragment);
    }

    [Theory]
    [InlineData("{\"model_type\":\"llama\",", "not valid JSON")]
    [InlineData("[]", "not an object")]
    [InlineData("{\"model_type\":\"llama\",\"model_type\":\"gpt2\"}", "\"model_type\" twice")]
    public void MalformedFile(string text, string fragment)
    {
        using var dir = new TempDir();
        var path = Write(dir, text);
        AssertMessage(Assert.Throws<CheckpointException>(() => LlamaConfig.Load(path)), path, fragment);
    }

    [Fact]
    public void MissingFile()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "config.json");
        AssertMessage(Assert.Throws<CheckpointException>(() => LlamaConfig.Load(path)), path, "not found");
    }

    private static string With(string json, Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        edit(node);
        return node.ToJsonString();
    }
}
