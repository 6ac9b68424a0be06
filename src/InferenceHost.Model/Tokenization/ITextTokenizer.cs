namespace InferenceHost.Model.Tokenization;

/// <summary>
/// A tokenizer as the engine sees it: text to ids and back, with the special ids it needs.
/// Implementations: SentencePiece <c>tokenizer.model</c>, byte-level BPE <c>tokenizer.json</c>,
/// tiktoken-format <c>tokenizer.model</c> (Llama 3 "original" layout; used by the embedded default model).
/// </summary>
public interface ITextTokenizer
{
    /// <summary>Number of ids the tokenizer can produce (base vocabulary plus added/special tokens).</summary>
    int VocabSize { get; }

    int? BosId { get; }

    int? EosId { get; }

    /// <summary>Whether <see cref="Encode"/> with <c>addSpecialTokens</c> prepends BOS (from tokenizer_config.json).</summary>
    bool AddBos { get; }

    /// <summary>Encodes text; with <paramref name="addSpecialTokens"/> the BOS id is prepended when <see cref="AddBos"/>.</summary>
    IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true);

    /// <summary>Decodes ids to text, skipping special tokens (BOS/EOS/pad).</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>
    /// A decoder for streaming: feed generated ids one at a time and get the text that became final,
    /// with leading spaces right and incomplete UTF-8 sequences held back until complete.
    /// </summary>
    IIncrementalDecoder CreateIncrementalDecoder();
}

public interface IIncrementalDecoder
{
    /// <summary>Adds one generated id; returns the text that is now final (possibly empty).</summary>
    string Push(int id);

    /// <summary>Returns whatever is still held back (e.g. an incomplete UTF-8 sequence, as U+FFFD).</summary>
    string Flush();
}
