using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Tokenization;

namespace InferenceHost.Model.Tests.Tokenization;

public class MalformedFileTests
{
    private static CheckpointException LoadFails(TempDir dir, string expectedFile)
    {
        var ex = Assert.Throws<CheckpointException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Equal(dir.File(expectedFile), ex.File);
        Assert.Contains(expectedFile, ex.Message);
        return ex;
    }

    [Fact]
    public void Empty_directory_names_tokenizer_model()
    {
        using var dir = new TempDir();
        LoadFails(dir, "tokenizer.model");
    }

    [Fact]
    public void Garbage_tokenizer_model_names_the_file()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("tokenizer.model"), new byte[] { 0xFF, 0x13, 0x37, 0x00, 0x42, 0x99, 0x01 });
        LoadFails(dir, "tokenizer.model");
    }

    [Fact]
    public void Empty_tokenizer_model_names_the_file()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("tokenizer.model"), Array.Empty<byte>());
        LoadFails(dir, "tokenizer.model");
    }

    [Fact]
    public void Tiktoken_file_with_a_bad_line_names_the_file_and_line()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.model"), "IQ== 0\nIg== 1\nthis is not base64 rank\n");
        var ex = LoadFails(dir, "tokenizer.model");
        Assert.Contains("line 3", ex.Message);
    }

    [Fact]
    public void Tiktoken_file_with_duplicate_rank_is_rejected()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.model"), "IQ== 0\nIg== 0\n");
        LoadFails(dir, "tokenizer.model");
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("[1, 2]")]
    [InlineData("""{"add_bos_token": "yes"}""")]
    [InlineData("""{"bos_token": 5}""")]
    [InlineData("""{"added_tokens_decoder": {"x": {"content": "<a>"}}}""")]
    [InlineData("""{"bos_token": "<not-in-vocab>"}""")]
    public void Bad_tokenizer_config_names_the_config(string config)
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(TokenizerFixtures.ModelDir("tiny-llama"), "tokenizer.model"), dir.File("tokenizer.model"));
        File.WriteAllText(dir.File("tokenizer_config.json"), config);
        LoadFails(dir, "tokenizer_config.json");
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("""{"version": "1.0"}""")]
    [InlineData("""{"model": {"type": "BPE", "vocab": [], "merges": []}, "decoder": {"type": "ByteLevel"}}""")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}, "decoder": {"type": "ByteLevel"}}""")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Whitespace"}, "decoder": {"type": "ByteLevel"}}""")]
    public void Bad_tokenizer_json_names_the_file(string json)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), json);
        LoadFails(dir, "tokenizer.json");
    }

    [Fact]
    public void Embedding_check_names_both_sizes_and_the_file()
    {
        var tok = TinyTokenizers.Llama2;
        var dir = TokenizerFixtures.ModelDir("tiny-llama");
        TokenizerLoader.CheckAgainstEmbedding(tok, 32000, dir);
        TokenizerLoader.CheckAgainstEmbedding(tok, 32064, dir);
        var ex = Assert.Throws<CheckpointException>(() => TokenizerLoader.CheckAgainstEmbedding(tok, 31999, dir));
        Assert.Equal(Path.Combine(dir, "tokenizer.model"), ex.File);
        Assert.Contains("32000", ex.Message);
        Assert.Contains("31999", ex.Message);
    }

    [Fact]
    public void Embedding_check_accepts_padded_cl100k_rows()
    {
        TokenizerLoader.CheckAgainstEmbedding(TinyTokenizers.Cl100kBase, EmbeddedTokenizer.Cl100kEmbeddingRows, "embedded");
        Assert.Throws<CheckpointException>(() => TokenizerLoader.CheckAgainstEmbedding(TinyTokenizers.Cl100kBase, 100256, "embedded"));
    }
}
