using System.Text.Encodings.Web;
using System.Text.Json;
using InferenceHost.Model.Tokenization;

namespace InferenceHost.Trainer.Tokenization;

/// <summary>
/// Writes a <see cref="BpeModel"/> as Hugging Face fast-tokenizer files, laid out like Llama 3's: a
/// <c>tokenizer.json</c> with a BPE model (vocab, merges as "left right"), a Split pre-tokenizer with
/// <see cref="BpeTrainer.Llama3Pattern"/> followed by ByteLevel (no prefix space, no regex), a
/// TemplateProcessing post-processor that starts with BOS, a ByteLevel decoder, and the special tokens as
/// added tokens after the learned ids; plus a <c>tokenizer_config.json</c> naming bos/eos/pad.
/// </summary>
public static class TokenizerJsonWriter
{
    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(string dir, BpeModel model, string bos, string eos, string? pad)
    {
        Directory.CreateDirectory(dir);
        foreach (var t in new[] { bos, eos }.Concat(pad is null ? [] : [pad]))
        {
            if (!model.SpecialTokens.Contains(t))
            {
                throw new ArgumentException($"\"{t}\" is not one of the special tokens ({string.Join(", ", model.SpecialTokens)})");
            }
        }

        WriteJson(Path.Combine(dir, TokenizerLoader.JsonFile), w =>
        {
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (var s in model.SpecialTokens)
            {
                w.WriteStartObject();
                w.WriteNumber("id", model.SpecialId(s));
                w.WriteString("content", s);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNull("normalizer");
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("pretokenizers");
            w.WriteStartObject();
            w.WriteString("type", "Split");
            w.WriteStartObject("pattern");
            w.WriteString("Regex", BpeTrainer.Llama3Pattern);
            w.WriteEndObject();
            w.WriteString("behavior", "Isolated");
            w.WriteBoolean("invert", false);
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("type", "ByteLevel");
            w.WriteBoolean("add_prefix_space", false);
            w.WriteBoolean("trim_offsets", true);
            w.WriteBoolean("use_regex", false);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("post_processor");
            w.WriteString("type", "TemplateProcessing");
            w.WriteStartArray("single");
            Special(w, bos);
            Sequence(w, "A");
            w.WriteEndArray();
            w.WriteStartArray("pair");
            Special(w, bos);
            Sequence(w, "A");
            Special(w, bos);
            Sequence(w, "B");
            w.WriteEndArray();
            w.WriteStartObject("special_tokens");
            w.WriteStartObject(bos);
            w.WriteString("id", bos);
            w.WriteStartArray("ids");
            w.WriteNumberValue(model.SpecialId(bos));
            w.WriteEndArray();
            w.WriteStartArray("tokens");
            w.WriteStringValue(bos);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("decoder");
            w.WriteString("type", "ByteLevel");
            w.WriteBoolean("add_prefix_space", true);
            w.WriteBoolean("trim_offsets", true);
            w.WriteBoolean("use_regex", true);
            w.WriteEndObject();
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            for (var i = 0; i < model.Tokens.Count; i++)
            {
                w.WriteNumber(model.Tokens[i], i);
            }

            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var m in model.Merges)
            {
                w.WriteStringValue($"{m.Left} {m.Right}");
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });

        WriteJson(Path.Combine(dir, TokenizerConfig.FileName), w =>
        {
            w.WriteBoolean("add_bos_token", true);
            w.WriteBoolean("add_eos_token", false);
            w.WriteStartObject("added_tokens_decoder");
            foreach (var s in model.SpecialTokens)
            {
                w.WriteStartObject(model.SpecialId(s).ToString(System.Globalization.CultureInfo.InvariantCulture));
                w.WriteString("content", s);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteString("bos_token", bos);
            w.WriteString("eos_token", eos);
            if (pad is not null)
            {
                w.WriteString("pad_token", pad);
            }

            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
        });
    }

    private static void Special(Utf8JsonWriter w, string id)
    {
        w.WriteStartObject();
        w.WriteStartObject("SpecialToken");
        w.WriteString("id", id);
        w.WriteNumber("type_id", 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Sequence(Utf8JsonWriter w, string id)
    {
        w.WriteStartObject();
        w.WriteStartObject("Sequence");
        w.WriteString("id", id);
        w.WriteNumber("type_id", 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteJson(string path, Action<Utf8JsonWriter> body)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, Options);
        w.WriteStartObject();
        body(w);
        w.WriteEndObject();
    }
}
