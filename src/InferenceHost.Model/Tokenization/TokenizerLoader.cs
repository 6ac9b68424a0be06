using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Model.Tokenization;

/// <summary>Loads the tokenizer of a Hugging Face-layout model directory.</summary>
public static class TokenizerLoader
{
    public const string JsonFile = "tokenizer.json";
    public const string ModelFile = "tokenizer.model";

    /// <summary>
    /// <c>tokenizer.json</c> (byte-level BPE) when present and byte-level; otherwise <c>tokenizer.model</c>,
    /// either a SentencePiece protobuf or a tiktoken-format text file (detected from its first line).
    /// <c>tokenizer_config.json</c>, when present, gives BOS/EOS, add_bos/add_eos and added tokens.
    /// </summary>
    public static ITextTokenizer Load(string modelDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDir);
        if (!Directory.Exists(modelDir))
            throw new CheckpointException(modelDir, "model directory does not exist");
        var config = TokenizerConfig.Load(modelDir);
        var json = Path.Combine(modelDir, JsonFile);
        var model = Path.Combine(modelDir, ModelFile);
        if (File.Exists(json))
        {
            var parsed = HfTokenizerJson.Read(json);
            if (parsed.IsByteLevelBpe || !File.Exists(model))
                return ByteLevelBpeTokenizer.Create(json, parsed, config);
            // e.g. Llama 2 / Mistral repos ship a SentencePiece-style tokenizer.json next to tokenizer.model.
        }
        if (!File.Exists(model))
            throw new CheckpointException(model, $"no tokenizer: neither {JsonFile} nor {ModelFile} exists in {modelDir}");
        try
        {
            if (new FileInfo(model).Length == 0) throw new CheckpointException(model, "file is empty");
            return TiktokenTextTokenizer.LooksLikeTiktoken(model)
                ? TiktokenTextTokenizer.Load(model, config)
                : SentencePieceTextTokenizer.Load(model, config);
        }
        catch (IOException ex)
        {
            throw new CheckpointException(model, $"cannot be read ({ex.Message})", ex);
        }
    }

    /// <summary>The tokenizer file <see cref="Load"/> would use in <paramref name="modelDir"/> (for messages).</summary>
    public static string TokenizerFile(string modelDir)
    {
        var json = Path.Combine(modelDir, JsonFile);
        return File.Exists(json) ? json : Path.Combine(modelDir, ModelFile);
    }

    /// <summary>
    /// Fails when the tokenizer can produce ids the model has no embedding row for
    /// (<see cref="ITextTokenizer.VocabSize"/> greater than <paramref name="embeddingRows"/>).
    /// More rows than ids is fine (vocabularies are often padded to a multiple of 64 or 128).
    /// </summary>
    public static void CheckAgainstEmbedding(ITextTokenizer tok, int embeddingRows, string dir)
    {
        ArgumentNullException.ThrowIfNull(tok);
        if (tok.VocabSize <= embeddingRows) return;
        var file = tok is TokenizerBase b ? b.SourceFile : TokenizerFile(dir);
        throw new CheckpointException(file,
            $"the tokenizer can produce ids up to {tok.VocabSize - 1} (vocabulary size {tok.VocabSize}) but the model's " +
            $"embedding has only {embeddingRows} rows; tokenizer and weights do not belong together");
    }
}
