using System.Text;
using InferenceHost.Model.Tokenization;
using Microsoft.ML.Tokenizers;

namespace InferenceHost.Model.Tests.Tokenization;

public class TiktokenTokenizerTests
{
    private static readonly string[] Texts =
    {
        "hello world", "Hello, World! It's 2024-06-01.", "  indented\n\tcode();\r\n", "Ünïcödé and emoji 🙂 test",
        "中文和日本語のテキスト", "1234567890 + 42 = ?", "don't WE'LL they've", "",
    };

    [Fact]
    public void Embedded_cl100k_loads_as_tiktoken_with_its_special_ids()
    {
        var tok = TinyTokenizers.Cl100kBase;
        Assert.IsType<TiktokenTextTokenizer>(tok);
        Assert.Equal(100277, tok.VocabSize); // ids 0..100276 (<|endofprompt|>)
        Assert.Equal(EmbeddedTokenizer.Cl100kVocabSize, tok.VocabSize);
        Assert.True(EmbeddedTokenizer.Cl100kEmbeddingRows >= tok.VocabSize && EmbeddedTokenizer.Cl100kEmbeddingRows % 128 == 0);
        Assert.Equal(100257, tok.EosId);
        Assert.Null(tok.BosId);
        Assert.False(tok.AddBos);
    }

    [Fact]
    public void Embedded_cl100k_known_encodings()
    {
        var tok = TinyTokenizers.Cl100kBase;
        // tiktoken: enc = tiktoken.get_encoding("cl100k_base"); enc.encode("hello world") == [15339, 1917]
        Assert.Equal(new[] { 15339, 1917 }, tok.Encode("hello world"));
        Assert.Equal(new[] { 15339, 1917, 100257 }, tok.Encode("hello world<|endoftext|>"));
        Assert.Equal(new[] { 100258, 100259, 100260, 100276 }, tok.Encode("<|fim_prefix|><|fim_middle|><|fim_suffix|><|endofprompt|>"));
        Assert.Equal("hello world", tok.Decode(new[] { 15339, 1917, 100257 }));
    }

    [Fact]
    public void Embedded_cl100k_encodes_like_the_librarys_own_cl100k_base()
    {
        var reference = TiktokenTokenizer.CreateForEncoding("cl100k_base");
        var tok = TinyTokenizers.Cl100kBase;
        foreach (var text in Texts.Concat(TokenizerFixtures.Prompts.Select(p => p.Text)))
        {
            Assert.Equal(reference.EncodeToIds(text), tok.Encode(text));
            Assert.Equal(text, tok.Decode(tok.Encode(text)));
        }
    }

    [Fact]
    public void Embedded_cl100k_ranks_decode_like_the_librarys_own_cl100k_base()
    {
        var reference = TiktokenTokenizer.CreateForEncoding("cl100k_base");
        var tok = TinyTokenizers.Cl100kBase;
        for (int id = 0; id < EmbeddedTokenizer.Cl100kBaseRanks; id++)
            Assert.Equal(reference.Decode(new[] { id }), tok.Decode(new[] { id }));
    }

    [Fact]
    public void Written_files_are_standard_tiktoken_lines_and_a_config()
    {
        using var dir = new TempDir();
        EmbeddedTokenizer.WriteCl100kBase(dir.Path);
        var first = File.ReadLines(dir.File("tokenizer.model")).First();
        Assert.Equal("IQ== 0", first); // "!" has rank 0
        var config = File.ReadAllText(dir.File("tokenizer_config.json"));
        Assert.Contains("\"add_bos_token\": false", config);
        Assert.Contains("\"100257\"", config);
    }

    [Fact]
    public void Tiktoken_text_is_detected_and_sentencepiece_is_not()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.model"), TinyTokenizers.TiktokenText());
        Assert.True(TiktokenTextTokenizer.LooksLikeTiktoken(dir.File("tokenizer.model")));
        Assert.False(TiktokenTextTokenizer.LooksLikeTiktoken(Path.Combine(TokenizerFixtures.ModelDir("tiny-llama"), "tokenizer.model")));
        var tok = TokenizerLoader.Load(dir.Path);
        Assert.IsType<TiktokenTextTokenizer>(tok);
        Assert.Equal(260, tok.VocabSize);
        Assert.False(tok.AddBos);
        Assert.Equal(new[] { 259, (int)' ', 259 }, tok.Encode("hello hello"));
        Assert.Equal(new[] { 256, (int)'y' }, tok.Encode("hey"));
        Assert.Equal("hello é", tok.Decode(tok.Encode("hello é")));
    }

    [Fact]
    public void Tiktoken_added_tokens_come_from_the_config()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.model"), TinyTokenizers.TiktokenText());
        File.WriteAllText(dir.File("tokenizer_config.json"), """
            {"add_bos_token": true, "bos_token": "<|bos|>", "eos_token": {"content": "<|eos|>"},
             "added_tokens_decoder": {"260": {"content": "<|bos|>", "special": true}, "261": {"content": "<|eos|>", "special": true},
                                      "262": {"content": "<tool>", "special": false}}}
            """);
        var tok = TokenizerLoader.Load(dir.Path);
        Assert.Equal(263, tok.VocabSize);
        Assert.Equal(new[] { 260, 259, 261, 262 }, tok.Encode("hello<|eos|><tool>"));
        Assert.Equal("hello<tool>", tok.Decode(new[] { 260, 259, 261, 262 }));
        Assert.Equal(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes("x")), tok.Decode(tok.Encode("x")));
    }
}
