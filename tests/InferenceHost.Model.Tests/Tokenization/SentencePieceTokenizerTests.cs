using InferenceHost.Model.Tokenization;
using static InferenceHost.Model.Tests.Tokenization.TokenizerFixtures;

namespace InferenceHost.Model.Tests.Tokenization;

public class SentencePieceTokenizerTests
{
    public static TheoryData<string, int> Cases() => PromptCases();

    [Fact]
    public void Goldens_cover_both_fixtures_and_the_emoji()
    {
        Assert.Contains(Prompts, p => p.Model == "tiny-llama");
        Assert.Contains(Prompts, p => p.Model == "tiny-llama-bf16");
        Assert.Contains(Prompts, p => p.Text.Contains("🙂") && p.Ids.Contains(243)); // <0xF0> byte fallback
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_matches_golden_ids_including_bos(string model, int index)
    {
        var prompt = Get(model, index);
        var tok = TokenizerLoader.Load(ModelDir(model));
        Assert.Equal(prompt.Ids, tok.Encode(prompt.Text));
        Assert.Equal(prompt.Ids.Skip(1), tok.Encode(prompt.Text, addSpecialTokens: false));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decode_of_golden_ids_gives_the_prompt_back(string model, int index)
    {
        var prompt = Get(model, index);
        var tok = TokenizerLoader.Load(ModelDir(model));
        Assert.Equal(prompt.Text, tok.Decode(prompt.Ids));
        Assert.Equal(prompt.Text, tok.Decode(prompt.Ids.Append(tok.EosId!.Value))); // EOS skipped too
    }

    [Fact]
    public void Fixture_tokenizer_reports_llama2_special_ids()
    {
        var tok = TokenizerLoader.Load(ModelDir("tiny-llama"));
        Assert.IsType<SentencePieceTextTokenizer>(tok);
        Assert.Equal(32000, tok.VocabSize);
        Assert.Equal(1, tok.BosId);
        Assert.Equal(2, tok.EosId);
        Assert.True(tok.AddBos);
    }

    [Fact]
    public void Leading_spaces_and_newlines_round_trip()
    {
        var tok = TokenizerLoader.Load(ModelDir("tiny-llama"));
        foreach (var text in new[] { "Hello world", "a\nb", "two  spaces", "tab\there", "ends with space " })
            Assert.Equal(text, tok.Decode(tok.Encode(text)));
    }

    [Fact]
    public void Control_pieces_in_text_are_encoded_as_special_ids()
    {
        var tok = TokenizerLoader.Load(ModelDir("tiny-llama"));
        var ids = tok.Encode("Hello</s>", addSpecialTokens: false);
        Assert.Equal(2, ids[^1]);
    }

    [Fact]
    public void Add_bos_false_in_config_is_honoured()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(ModelDir("tiny-llama"), "tokenizer.model"), dir.File("tokenizer.model"));
        File.WriteAllText(dir.File("tokenizer_config.json"),
            """{"add_bos_token": false, "add_eos_token": true, "bos_token": {"content": "<s>"}, "eos_token": "</s>"}""");
        var tok = TokenizerLoader.Load(dir.Path);
        Assert.False(tok.AddBos);
        Assert.Equal(new[] { 9038, 2501, 263, 931, 2 }, tok.Encode("Once upon a time"));
    }
}
