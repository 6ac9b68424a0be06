using System.Text;
using InferenceHost.Model.Tokenization;

namespace InferenceHost.Model.Tests.Tokenization;

public class IncrementalDecoderTests
{
    public static TheoryData<string> Kinds() => TinyTokenizers.Kinds();

    private static (string Text, List<string> Pieces) Stream(ITextTokenizer tok, IEnumerable<int> ids)
    {
        var dec = tok.CreateIncrementalDecoder();
        var pieces = ids.Select(dec.Push).ToList();
        var tail = dec.Flush();
        pieces.Add(tail);
        return (string.Concat(pieces), pieces);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Streaming_random_id_sequences_equals_full_decode(string kind)
    {
        var tok = TinyTokenizers.ByKind(kind);
        var rng = new Random(1234);
        for (int trial = 0; trial < 300; trial++)
        {
            var ids = Enumerable.Range(0, rng.Next(1, 40)).Select(_ => RandomId(tok, rng)).ToList();
            var (text, _) = Stream(tok, ids);
            Assert.Equal(tok.Decode(ids), text);
        }
    }

    /// <summary>Mostly ordinary ids, sometimes byte-ish low ids and specials, so broken UTF-8 is common.</summary>
    private static int RandomId(ITextTokenizer tok, Random rng) => rng.Next(10) switch
    {
        0 => tok.BosId ?? 0,
        1 => tok.EosId ?? 0,
        < 5 => rng.Next(0, Math.Min(300, tok.VocabSize)),
        _ => rng.Next(0, tok.VocabSize),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Streaming_encoded_text_equals_the_text(string kind)
    {
        var tok = TinyTokenizers.ByKind(kind);
        var texts = TokenizerFixtures.Prompts.Select(p => p.Text)
            .Concat(new[] { " leading space", "ünï 🙂🙃 中文 text", "hello world\n\n  x", "é" });
        foreach (var text in texts)
        {
            var ids = tok.Encode(text);
            Assert.Equal(tok.Decode(ids), Stream(tok, ids).Text);
            if (kind != "sentencepiece") Assert.Equal(text, Stream(tok, ids).Text); // SP strips one leading space
        }
    }

    [Fact]
    public void Golden_prompt_ids_stream_to_the_prompt_text()
    {
        foreach (var p in TokenizerFixtures.Prompts)
            Assert.Equal(p.Text, Stream(TinyTokenizers.Llama2, p.Ids).Text);
    }

    [Fact]
    public void SentencePiece_keeps_spaces_between_streamed_words()
    {
        var (_, pieces) = Stream(TinyTokenizers.Llama2, new[] { 1, 9038, 2501, 263, 931 });
        Assert.Equal(new[] { "", "Once", " upon", " a", " time", "" }, pieces);
    }

    [Fact]
    public void Emoji_byte_fallback_is_held_back_until_complete()
    {
        // "... emoji 🙂 test": ▁ then <0xF0> <0x9F> <0x99> <0x82> then ▁test
        var (_, pieces) = Stream(TinyTokenizers.Llama2, new[] { 953, 29877, 2397, 29871, 243, 162, 156, 133, 1243 });
        Assert.Equal(new[] { "em", "o", "ji", " ", "", "", "", "🙂", " test", "" }, pieces);
    }

    [Fact]
    public void Incomplete_utf8_at_the_end_comes_out_of_flush_as_replacement_char()
    {
        var dec = TinyTokenizers.Llama2.CreateIncrementalDecoder();
        Assert.Equal("", dec.Push(243));
        Assert.Equal("", dec.Push(162));
        Assert.Equal("\uFFFD", dec.Flush());
        Assert.Equal("\uFFFD", TinyTokenizers.Llama2.Decode(new[] { 243, 162 }));
    }

    [Fact]
    public void Byte_level_multibyte_char_split_across_tokens_is_held_back()
    {
        var tok = TinyTokenizers.TinyByteLevel;
        var bytes = Encoding.UTF8.GetBytes("🙂"); // 4 bytes, each its own token (id = byte) in the tiny vocab
        var (text, pieces) = Stream(tok, bytes.Select(b => (int)b));
        Assert.Equal(new[] { "", "", "", "🙂", "" }, pieces);
        Assert.Equal("🙂", text);
    }
}
