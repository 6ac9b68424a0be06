using System.Globalization;
using System.Text;
using InferenceHost.Model.Checkpoints;
using Microsoft.ML.Tokenizers;

namespace InferenceHost.Model.Tokenization;

/// <summary>
/// SentencePiece <c>tokenizer.model</c> (Llama 2, TinyLlama, Mistral): encoding by Microsoft.ML.Tokenizers'
/// LlamaTokenizer (BPE with byte fallback and the "▁" dummy prefix); decoding from the pieces' bytes.
/// </summary>
public sealed class SentencePieceTextTokenizer : TokenizerBase
{
    private const char SpaceSymbol = '\u2581'; // ▁
    private readonly SentencePieceTokenizer _sp;
    private readonly byte[]?[] _bytes;          // id → UTF-8 of the piece with ▁ as space, or the fallback byte
    private readonly bool[] _startsWithSpace;   // piece starts with ▁ (dropped for the first content token)

    private SentencePieceTextTokenizer(string file, SentencePieceTokenizer sp, int vocabSize, int? bos, int? eos,
        bool addBos, bool addEos, IEnumerable<int> specials, byte[]?[] bytes, bool[] startsWithSpace)
        : base(file, vocabSize, bos, eos, addBos, addEos, specials)
    {
        _sp = sp;
        _bytes = bytes;
        _startsWithSpace = startsWithSpace;
    }

    public static SentencePieceTextTokenizer Load(string file, TokenizerConfig config)
    {
        // Added tokens (config) and the control pieces are matched in text as whole tokens, like HF does.
        var specialTokens = new Dictionary<string, int>(StringComparer.Ordinal);
        SentencePieceTokenizer probe;
        try
        {
            using (var s = File.OpenRead(file)) probe = LlamaTokenizer.Create(s, false, false);
            foreach (var (piece, id) in new[] { (probe.BeginningOfSentenceToken, probe.BeginningOfSentenceId),
                         (probe.EndOfSentenceToken, probe.EndOfSentenceId), (probe.UnknownToken, probe.UnknownId) })
                if (!string.IsNullOrEmpty(piece) && id >= 0) specialTokens[piece] = id;
            foreach (var t in config.AddedTokens) specialTokens[t.Content] = t.Id;
            using var s2 = File.OpenRead(file);
            var sp = LlamaTokenizer.Create(s2, false, false, specialTokens);
            return Build(file, sp, config);
        }
        catch (CheckpointException) { throw; }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new CheckpointException(file, $"not a readable SentencePiece model ({ex.GetType().Name}: {ex.Message})", ex);
        }
    }

    private static SentencePieceTextTokenizer Build(string file, SentencePieceTokenizer sp, TokenizerConfig config)
    {
        if (sp.Vocabulary.Count == 0) throw new CheckpointException(file, "the SentencePiece model has no pieces");
        int size = Math.Max(sp.Vocabulary.Values.Max() + 1, config.AddedTokens.Select(t => t.Id + 1).DefaultIfEmpty(0).Max());
        var bytes = new byte[]?[size];
        var startsWithSpace = new bool[size];
        foreach (var (piece, id) in sp.Vocabulary)
        {
            if (sp.ByteFallback && TryParseBytePiece(piece, out byte b)) { bytes[id] = new[] { b }; continue; }
            startsWithSpace[id] = piece.Length > 0 && piece[0] == SpaceSymbol;
            bytes[id] = Encoding.UTF8.GetBytes(piece.Replace(SpaceSymbol, ' '));
        }
        var specials = new List<int>();
        foreach (var t in config.AddedTokens)
        {
            if (t.Special) specials.Add(t.Id);
            else if (bytes[t.Id] is null) bytes[t.Id] = Encoding.UTF8.GetBytes(t.Content);
        }
        if (sp.UnknownId >= 0) specials.Add(sp.UnknownId);

        int? bos = ResolveId(file, config.BosToken, sp, config) ?? NonNegative(sp.BeginningOfSentenceId);
        int? eos = ResolveId(file, config.EosToken, sp, config) ?? NonNegative(sp.EndOfSentenceId);
        if (ResolveId(file, config.PadToken, sp, config) is int pad) specials.Add(pad);
        // HF LlamaTokenizer defaults: add_bos_token true, add_eos_token false.
        return new SentencePieceTextTokenizer(file, sp, size, bos, eos, config.AddBosToken ?? true,
            config.AddEosToken ?? false, specials, bytes, startsWithSpace);
    }

    private static int? NonNegative(int id) => id >= 0 ? id : null;

    private static int? ResolveId(string file, string? token, SentencePieceTokenizer sp, TokenizerConfig config)
    {
        if (token is null) return null;
        foreach (var t in config.AddedTokens) if (t.Content == token) return t.Id;
        if (sp.Vocabulary.TryGetValue(token, out int id)) return id;
        throw new CheckpointException(Path.Combine(Path.GetDirectoryName(file) ?? ".", TokenizerConfig.FileName),
            $"token \"{token}\" is not in the vocabulary of {Path.GetFileName(file)}");
    }

    internal static bool TryParseBytePiece(string piece, out byte b)
    {
        b = 0;
        return piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out b);
    }

    protected override void EncodeCore(string text, List<int> ids)
    {
        if (text.Length == 0) return;
        ids.AddRange(_sp.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false));
    }

    protected override void AppendTokenBytes(int id, bool firstContent, List<byte> bytes)
    {
        var b = _bytes[id];
        if (b is null) return;
        // SentencePiece removes the dummy-prefix space of the first piece of the decoded text.
        int start = firstContent && _startsWithSpace[id] && _sp.AddDummyPrefix ? 1 : 0;
        for (int i = start; i < b.Length; i++) bytes.Add(b[i]);
    }
}
