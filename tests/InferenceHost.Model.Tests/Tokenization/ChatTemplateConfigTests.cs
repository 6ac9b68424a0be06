using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Tokenization;
using static InferenceHost.Model.Tests.Tokenization.TokenizerFixtures;

namespace InferenceHost.Model.Tests.Tokenization;

/// <summary>Where a checkpoint's chat template and special-token strings come from, and how chat text tokenizes.</summary>
public class ChatTemplateConfigTests
{
    private static ChatTemplateConfig Load(string tokenizerConfig, string? jinja = null)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer_config.json"), tokenizerConfig);
        if (jinja is not null)
        {
            File.WriteAllText(dir.File(ChatTemplateConfig.JinjaFile), jinja);
        }

        return ChatTemplateConfig.Load(dir.Path);
    }

    [Fact]
    public void A_string_template_and_the_special_tokens_as_transformers_passes_them()
    {
        var c = Load("""
            {"chat_template": "{{ bos_token }}", "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>",
             "unk_token": null, "pad_token": "<pad>", "additional_special_tokens": ["<|im_start|>", {"content": "<|im_end|>"}],
             "extra_special_tokens": {"image_token": "<image>"}}
            """);
        Assert.Equal("{{ bos_token }}", c.Template!.Source);
        Assert.EndsWith("tokenizer_config.json", c.Template.File);
        Assert.Equal("<s>", c.SpecialTokens["bos_token"]);
        Assert.Equal("</s>", c.SpecialTokens["eos_token"]);
        Assert.Equal("<pad>", c.SpecialTokens["pad_token"]);
        Assert.False(c.SpecialTokens.ContainsKey("unk_token"));
        Assert.Equal(new[] { "<|im_start|>", "<|im_end|>" }, (string[])c.SpecialTokens["additional_special_tokens"]);
        Assert.Equal("<image>", c.SpecialTokens["image_token"]);
    }

    [Fact]
    public void A_list_of_named_templates_uses_default_and_a_list_without_one_is_an_error()
    {
        var c = Load("""{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}""");
        Assert.Equal("D", c.Template!.Source);
        var e = Assert.Throws<CheckpointException>(() => Load("""{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "rag", "template": "R"}]}"""));
        Assert.Contains("tool_use, rag", e.Message);
        Assert.Contains("\"default\"", e.Message);
        Assert.Throws<CheckpointException>(() => Load("""{"chat_template": 3}"""));
    }

    [Fact]
    public void Chat_template_jinja_beside_the_config_wins_and_no_template_is_null()
    {
        var c = Load("""{"chat_template": "from config"}""", jinja: "from file");
        Assert.Equal("from file", c.Template!.Source);
        Assert.EndsWith(ChatTemplateConfig.JinjaFile, c.Template.File);
        Assert.Null(Load("""{"bos_token": "<s>"}""").Template);
        Assert.Null(ChatTemplateConfig.Load(ModelDir("tiny-llama")).Template);
    }

    [Fact]
    public void A_malformed_template_does_not_stop_the_tokenizer_from_loading()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(ModelDir("tiny-llama"), "tokenizer.model"), dir.File("tokenizer.model"));
        File.WriteAllText(dir.File("tokenizer_config.json"), """{"chat_template": 3, "bos_token": "<s>"}""");
        Assert.Equal(1, TokenizerLoader.Load(dir.Path).BosId);
    }

    [Theory]
    [MemberData(nameof(TinyTokenizers.Kinds), MemberType = typeof(TinyTokenizers))]
    public void Special_tokens_inside_chat_text_encode_as_single_ids(string kind)
    {
        var tok = TinyTokenizers.ByKind(kind);
        var (special, id) = kind switch
        {
            "sentencepiece" => ("</s>", 2),
            "cl100k" => ("<|endoftext|>", EmbeddedTokenizer.Cl100kEndOfText),
            "bytelevel" => ("<|begin|>", TinyTokenizers.Begin),
            _ => (null, 0),
        };
        if (special is null)
        {
            return; // the tiny tiktoken file has no special tokens; its added-token case is in TiktokenTokenizerTests
        }

        // (SentencePiece encodes the text after a special token without the dummy-prefix space, as
        // transformers does with legacy=false, so the middle part is compared as text.)
        var ids = tok.Encode($"hello{special}hello{special}", addSpecialTokens: false);
        var hello = tok.Encode("hello", addSpecialTokens: false);
        Assert.Equal(hello, ids.Take(hello.Count));
        Assert.Equal(id, ids[hello.Count]);
        Assert.Equal(id, ids[^1]);
        Assert.Equal(2, ids.Count(i => i == id));
        Assert.Equal("hello", tok.Decode(ids.Skip(hello.Count + 1).SkipLast(1)));
    }

    [Fact]
    public void Config_added_tokens_split_sentencepiece_chat_text_and_bos_is_not_doubled()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(ModelDir("tiny-llama"), "tokenizer.model"), dir.File("tokenizer.model"));
        File.WriteAllText(dir.File("tokenizer_config.json"), """
            {"add_bos_token": true, "bos_token": "<s>", "eos_token": "</s>",
             "added_tokens_decoder": {"32000": {"content": "<|im_start|>", "special": true}, "32001": {"content": "<|im_end|>", "special": true}}}
            """);
        var tok = TokenizerLoader.Load(dir.Path);
        var ids = tok.Encode("<s><|im_start|>user\nHi<|im_end|>", addSpecialTokens: false);
        Assert.Equal(1, ids[0]);
        Assert.Equal(32000, ids[1]);
        Assert.Equal(32001, ids[^1]);
        Assert.Single(ids, i => i == 1);
        Assert.Equal("user\nHi", tok.Decode(ids));
    }
}
