using System.Text;
using System.Text.Json.Nodes;
using InferenceHost.Model.Tokenization;

namespace InferenceHost.Model.Tests.Tokenization;

/// <summary>Small tokenizer files written by the tests, and one loaded instance of every tokenizer kind.</summary>
public static class TinyTokenizers
{
    /// <summary>Merges of the tiny byte-level BPE: ids 256.. in this order.</summary>
    public static readonly (string, string)[] Merges =
    {
        ("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("Ġ", "w"), ("Ġw", "o"), ("Ġwo", "r"), ("Ġwor", "l"),
        ("Ġworl", "d"), ("Ã", "©"),
    };

    public const int EndOfText = 300;
    public const int Begin = 301;

    /// <summary>
    /// A GPT-2/Llama-3 style tokenizer.json: the 256 byte characters (id = byte), the merges above
    /// (ids 256..265), special tokens &lt;|endoftext|&gt; 300 and &lt;|begin|&gt; 301 (BOS via the post-processor),
    /// pre-tokenizer Split(cl100k regex) + ByteLevel(no regex). mergesAsPairs writes merges as ["a","b"].
    /// </summary>
    public static string TokenizerJson(bool mergesAsPairs = false)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteLevelBpeTokenizer.ByteToUnicode((byte)b).ToString()] = b;
        for (int i = 0; i < Merges.Length; i++) vocab[Merges[i].Item1 + Merges[i].Item2] = 256 + i;
        var merges = new JsonArray(Merges.Select(m => mergesAsPairs
            ? (JsonNode)new JsonArray(m.Item1, m.Item2) : JsonValue.Create(m.Item1 + " " + m.Item2)!).ToArray());
        JsonObject Added(int id, string content) => new() { ["id"] = id, ["content"] = content, ["special"] = true };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(Added(EndOfText, "<|endoftext|>"), Added(Begin, "<|begin|>")),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = TiktokenTextTokenizer.Cl100kPattern },
                        ["behavior"] = "Isolated", ["invert"] = false,
                    },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin|>", ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
            },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = merges,
            },
        };
        return root.ToJsonString();
    }

    /// <summary>A tiktoken file: the 256 single bytes (rank = byte) then "he" 256, "ll" 257, "hello" 258.</summary>
    public static string TiktokenText()
    {
        var sb = new StringBuilder();
        for (int b = 0; b < 256; b++) sb.Append(Convert.ToBase64String(new[] { (byte)b })).Append(' ').Append(b).Append('\n');
        string[] extra = { "he", "ll", "hell", "hello" };
        for (int i = 0; i < extra.Length; i++)
            sb.Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(extra[i]))).Append(' ').Append(256 + i).Append('\n');
        return sb.ToString();
    }

    public static ITextTokenizer LoadByteLevel(TempDir dir, bool mergesAsPairs = false)
    {
        File.WriteAllText(dir.File("tokenizer.json"), TokenizerJson(mergesAsPairs));
        return TokenizerLoader.Load(dir.Path);
    }

    private static readonly Lazy<ITextTokenizer> Cl100k = new(() =>
    {
        using var dir = new TempDir(); // loading reads everything into memory, so the files can go
        EmbeddedTokenizer.WriteCl100kBase(dir.Path);
        return TokenizerLoader.Load(dir.Path);
    });

    public static ITextTokenizer Cl100kBase => Cl100k.Value;

    private static readonly Lazy<ITextTokenizer> SentencePiece = new(() => TokenizerLoader.Load(TokenizerFixtures.ModelDir("tiny-llama")));

    public static ITextTokenizer Llama2 => SentencePiece.Value;

    private static readonly Lazy<ITextTokenizer> ByteLevel = new(() =>
    {
        using var dir = new TempDir();
        return LoadByteLevel(dir);
    });

    public static ITextTokenizer TinyByteLevel => ByteLevel.Value;

    private static readonly Lazy<ITextTokenizer> TinyTiktokenLazy = new(() =>
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.model"), TiktokenText());
        return TokenizerLoader.Load(dir.Path);
    });

    public static ITextTokenizer TinyTiktoken => TinyTiktokenLazy.Value;

    public static ITextTokenizer ByKind(string kind) => kind switch
    {
        "sentencepiece" => Llama2,
        "cl100k" => Cl100kBase,
        "bytelevel" => TinyByteLevel,
        "tiktoken-tiny" => TinyTiktoken,
        _ => throw new ArgumentException(kind),
    };

    public static TheoryData<string> Kinds() => new() { "sentencepiece", "cl100k", "bytelevel", "tiktoken-tiny" };
}
