using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Tokenization;

namespace InferenceHost.Model.Tests.Tokenization;

public class ByteLevelBpeTokenizerTests
{
    private const int Hello = 259, World = 264, EAcute = 265; // merge ids (see TinyTokenizers.Merges)

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Encodes_with_merges_split_regex_and_template_bos(bool mergesAsPairs)
    {
        using var dir = new TempDir();
        var tok = TinyTokenizers.LoadByteLevel(dir, mergesAsPairs);
        Assert.IsType<ByteLevelBpeTokenizer>(tok);
        Assert.Equal(302, tok.VocabSize);
        Assert.Equal(TinyTokenizers.Begin, tok.BosId);
        Assert.True(tok.AddBos); // from the TemplateProcessing post-processor
        Assert.Equal(new[] { TinyTokenizers.Begin, Hello, World }, tok.Encode("hello world"));
        // "hellow" is one regex piece: merges give hell+o then w; "caf" + é (two bytes merged to one id)
        Assert.Equal(new[] { Hello, 'w' }, tok.Encode("hellow", addSpecialTokens: false));
        Assert.Equal(new[] { 'c', 'a', 'f', EAcute }, tok.Encode("café", addSpecialTokens: false));
        Assert.Equal(new[] { Hello, TinyTokenizers.EndOfText, 'x' }, tok.Encode("hello<|endoftext|>x", addSpecialTokens: false));
    }

    [Fact]
    public void Decodes_bytes_back_to_text_skipping_specials()
    {
        var tok = TinyTokenizers.TinyByteLevel;
        foreach (var text in new[] { "hello world", "café 🙂 中文", "  two\n\nlines\t", "" })
            Assert.Equal(text, tok.Decode(tok.Encode(text)));
        Assert.Equal("hello", tok.Decode(new[] { TinyTokenizers.Begin, Hello, TinyTokenizers.EndOfText }));
    }

    [Fact]
    public void Config_overrides_bos_and_eos()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer_config.json"), """{"add_bos_token": false, "eos_token": "<|endoftext|>"}""");
        var tok = TinyTokenizers.LoadByteLevel(dir);
        Assert.False(tok.AddBos);
        Assert.Equal(TinyTokenizers.EndOfText, tok.EosId);
        Assert.Equal(new[] { Hello }, tok.Encode("hello"));
    }

    [Fact]
    public void Sentencepiece_style_tokenizer_json_without_model_file_is_a_clear_error()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"),
            """{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "byte_fallback": true}, "decoder": {"type": "Sequence", "decoders": []}}""");
        var ex = Assert.Throws<CheckpointException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Equal(dir.File("tokenizer.json"), ex.File);
        Assert.Contains("byte-level", ex.Message);
    }

    [Fact]
    public void Sentencepiece_style_tokenizer_json_next_to_tokenizer_model_uses_the_model()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"),
            """{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "decoder": {"type": "Sequence", "decoders": []}}""");
        File.Copy(Path.Combine(TokenizerFixtures.ModelDir("tiny-llama"), "tokenizer.model"), dir.File("tokenizer.model"));
        Assert.IsType<SentencePieceTextTokenizer>(TokenizerLoader.Load(dir.Path));
    }
}
