using System.Text;

namespace InferenceHost.Model.Tokenization;

/// <summary>
/// Streaming detokenizer. Instead of re-decoding prefix windows and diffing strings (the TGI / vLLM
/// approach, needed there because HF decoders are opaque), it feeds each id's exact bytes through one
/// stateful UTF-8 decoder: text is released as soon as its bytes are complete, an incomplete multi-byte
/// sequence (an emoji split into byte-fallback tokens, a byte-level BPE piece) is held back, and the
/// SentencePiece leading space is dropped only for the first content token, exactly as in
/// <see cref="TokenizerBase.Decode"/>. So the concatenation of every Push plus Flush equals Decode(all ids).
/// </summary>
internal sealed class IncrementalDecoder : IIncrementalDecoder
{
    private readonly TokenizerBase _tokenizer;
    private readonly Decoder _utf8 = TokenizerBase.Utf8.GetDecoder();
    private readonly List<byte> _bytes = new();
    private bool _firstContent = true;

    public IncrementalDecoder(TokenizerBase tokenizer) => _tokenizer = tokenizer;

    public string Push(int id)
    {
        _bytes.Clear();
        _tokenizer.AppendBytes(id, ref _firstContent, _bytes);
        return _bytes.Count == 0 ? string.Empty : Convert(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_bytes), flush: false);
    }

    public string Flush() => Convert(ReadOnlySpan<byte>.Empty, flush: true);

    private string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        // At most one char per byte, plus up to 3 held-back bytes that can become U+FFFD each.
        var chars = new char[bytes.Length + 4];
        int n = _utf8.GetChars(bytes, chars, flush);
        return new string(chars, 0, n);
    }
}
