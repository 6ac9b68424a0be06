using System.Text;

namespace InferenceHost.Model.Tokenization;

/// <summary>
/// Shared decoding for every tokenizer kind. Each kind maps an id to the raw bytes it stands for;
/// <see cref="Decode"/> and the incremental decoder both go through <see cref="AppendTokenBytes"/>, so
/// streaming text is by construction the same as decoding everything at once.
/// </summary>
public abstract class TokenizerBase : ITextTokenizer
{
    /// <summary>Ids skipped when decoding (BOS, EOS, unk, pad and every added token marked special).</summary>
    private readonly HashSet<int> _skipOnDecode;

    protected TokenizerBase(string sourceFile, int vocabSize, int? bosId, int? eosId, bool addBos, bool addEos,
        IEnumerable<int> specialIds)
    {
        SourceFile = sourceFile;
        VocabSize = vocabSize;
        BosId = bosId;
        EosId = eosId;
        AddBos = addBos && bosId is not null;
        AddEos = addEos && eosId is not null;
        _skipOnDecode = new HashSet<int>(specialIds);
        if (bosId is int b) _skipOnDecode.Add(b);
        if (eosId is int e) _skipOnDecode.Add(e);
    }

    /// <summary>The file the tokenizer was loaded from (for error messages).</summary>
    public string SourceFile { get; }

    public int VocabSize { get; }

    public int? BosId { get; }

    public int? EosId { get; }

    public bool AddBos { get; }

    /// <summary>Whether <see cref="Encode"/> with <c>addSpecialTokens</c> appends EOS (add_eos_token).</summary>
    public bool AddEos { get; }

    /// <summary>Ids that <see cref="Decode"/> skips.</summary>
    public IReadOnlyCollection<int> SpecialIds => _skipOnDecode;

    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        if (addSpecialTokens && AddBos) ids.Add(BosId!.Value);
        EncodeCore(text, ids);
        if (addSpecialTokens && AddEos) ids.Add(EosId!.Value);
        return ids;
    }

    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        bool first = true;
        foreach (var id in ids) AppendBytes(id, ref first, bytes);
        return Utf8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    public IIncrementalDecoder CreateIncrementalDecoder() => new IncrementalDecoder(this);

    /// <summary>UTF-8 without BOM; invalid sequences become U+FFFD (same rules one-shot and streaming).</summary>
    internal static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>Appends the bytes of one id, skipping special ids and ids outside the vocabulary.</summary>
    internal void AppendBytes(int id, ref bool firstContent, List<byte> bytes)
    {
        if (id < 0 || id >= VocabSize || _skipOnDecode.Contains(id)) return;
        AppendTokenBytes(id, firstContent, bytes);
        // "First content" ends with the first id that is not skipped, even if it produced no bytes.
        firstContent = false;
    }

    /// <summary>Encodes text without BOS/EOS, appending ids.</summary>
    protected abstract void EncodeCore(string text, List<int> ids);

    /// <summary>
    /// Appends the bytes id stands for. <paramref name="firstContent"/> is true for the first id of the
    /// sequence that is not skipped (SentencePiece drops the dummy-prefix space there).
    /// </summary>
    protected abstract void AppendTokenBytes(int id, bool firstContent, List<byte> bytes);
}
