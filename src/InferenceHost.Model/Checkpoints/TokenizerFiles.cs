using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using InferenceHost.Model.Tokenization;

namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// Puts a tokenizer into a checkpoint directory under the name Hugging Face gives its kind (a byte-level BPE
/// <c>tokenizer.json</c> stays <c>tokenizer.json</c>; SentencePiece and tiktoken files become
/// <c>tokenizer.model</c>), with the <c>tokenizer_config.json</c> found beside it or, when there is none, one
/// that names the tokenizer's own BOS/EOS tokens; then loads it, so callers size the model from what it is.
/// </summary>
public static class TokenizerFiles
{
    // End-of-text spellings of common byte-level BPE vocabularies, for a tokenizer.json without a config.
    private static readonly string[] EosNames = ["</s>", "<|endoftext|>", "<|end_of_text|>", "<|eot_id|>", "<eos>", "<|im_end|>"];

    public static ITextTokenizer Install(string tokenizerPath, string dir)
    {
        if (!File.Exists(tokenizerPath))
        {
            throw new CheckpointException(tokenizerPath, "tokenizer model not found");
        }

        Directory.CreateDirectory(dir);
        var isJson = IsJson(tokenizerPath);
        File.Copy(tokenizerPath, Path.Combine(dir, isJson ? TokenizerLoader.JsonFile : TokenizerLoader.ModelFile), overwrite: true);
        var beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerPath))!, TokenizerConfig.FileName);
        var config = Path.Combine(dir, TokenizerConfig.FileName);
        if (File.Exists(beside))
        {
            if (Path.GetFullPath(beside) != Path.GetFullPath(config))
            {
                File.Copy(beside, config, overwrite: true);
            }
        }
        else
        {
            File.WriteAllText(config, isJson ? BpeConfig(tokenizerPath) : SentencePieceConfig());
        }

        return TokenizerLoader.Load(dir);
    }

    private static bool IsJson(string path)
    {
        using var stream = File.OpenRead(path);
        int b;
        while ((b = stream.ReadByte()) is ' ' or '\n' or '\r' or '\t' or 0xEF or 0xBB or 0xBF)
        {
        }

        return b == '{';
    }

    /// <summary>Llama 2's SentencePiece settings, which every SentencePiece model here uses.</summary>
    private static string SentencePieceConfig() => Json(w =>
    {
        w.WriteBoolean("add_bos_token", true);
        w.WriteBoolean("add_eos_token", false);
        w.WriteString("bos_token", "<s>");
        w.WriteString("eos_token", "</s>");
        w.WriteString("unk_token", "<unk>");
        w.WriteString("tokenizer_class", "LlamaTokenizer");
    });

    /// <summary>BOS from the post-processor's template (if it adds one), EOS from the special tokens' usual names.</summary>
    private static string BpeConfig(string path)
    {
        var json = HfTokenizerJson.Read(path);
        var specials = json.AddedTokens.Where(t => t.Special).Select(t => t.Content).ToList();
        var eos = EosNames.FirstOrDefault(specials.Contains) ?? json.TemplateBos;
        return Json(w =>
        {
            w.WriteBoolean("add_bos_token", json.TemplateBos is not null);
            w.WriteBoolean("add_eos_token", false);
            if (json.TemplateBos is { } bos)
            {
                w.WriteString("bos_token", bos);
            }

            if (eos is not null)
            {
                w.WriteString("eos_token", eos);
            }

            w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
        });
    }

    private static string Json(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping so "<s>" is written as itself, as transformers writes it.
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
