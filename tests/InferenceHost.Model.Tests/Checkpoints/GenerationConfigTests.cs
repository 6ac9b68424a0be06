using InferenceHost.Model.Checkpoints;
using static InferenceHost.Model.Tests.Checkpoints.TestFiles;

namespace InferenceHost.Model.Tests.Checkpoints;

public class GenerationConfigTests
{
    [Fact]
    public void Eos_ids_of_generation_config_join_config_json_and_the_tokenizer()
    {
        using var dir = new TempDir();
        foreach (var file in new[] { "config.json", "model.safetensors", "tokenizer.model", "tokenizer_config.json" })
        {
            File.CreateSymbolicLink(Path.Combine(dir.Path, file), Path.Combine(Fixture("tiny-llama"), file));
        }

        File.WriteAllText(Path.Combine(dir.Path, GenerationConfig.FileName), """{"bos_token_id": 1, "eos_token_id": [2, 13]}""");
        using var model = ModelLoader.Load(dir.Path);
        Assert.Equal(new[] { 2, 13 }, model.EosIds.Order());
    }

    [Theory]
    [InlineData("""{"eos_token_id": 7}""", new[] { 7 })]
    [InlineData("""{"eos_token_id": [7, 9]}""", new[] { 7, 9 })]
    [InlineData("""{"temperature": 0.6}""", new int[0])]
    public void Eos_token_id_is_an_integer_or_a_list(string json, int[] expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, GenerationConfig.FileName), json);
        Assert.Equal(expected, GenerationConfig.EosTokenIds(dir.Path));
    }

    [Fact]
    public void A_malformed_generation_config_names_the_file()
    {
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, GenerationConfig.FileName), """{"eos_token_id": "x"}""");
        var e = Assert.Throws<CheckpointException>(() => GenerationConfig.EosTokenIds(dir.Path));
        Assert.Contains(GenerationConfig.FileName, e.Message);
        Assert.Empty(GenerationConfig.EosTokenIds(Fixture("tiny-llama")));
    }
}
