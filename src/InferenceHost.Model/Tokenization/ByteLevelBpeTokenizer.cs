using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Model.Tokenization;

/// <summary>
/// Byte-level BPE from a Hugging Face <c>tokenizer.json</c> (GPT-2 style: Llama 3, Qwen2, SmolLM):
/// added tokens are split out first, then the pre-tokenizer (Split regex / ByteLevel / Digits), then each
/// piece's UTF-8 bytes are mapped to GPT-2's printable characters and merged by merge rank.
/// Not supported: added-token lstrip/rstrip/single_word flags, BPE dropout, non-Unicode normalizers.
/// </summary>
public sealed class ByteLevelBpeTokenizer : TokenizerBase
{
    /// <summary>GPT-2's pattern, used by a ByteLevel pre-tokenizer with use_regex.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly (char[] ByteToChar, Dictionary<char, byte> CharToByte) ByteMap = BuildByteMap();

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(string, string), int> _mergeRanks = new();
    private readonly bool _ignoreMerges;
    private readonly int? _unkId;
    private readonly Regex? _addedTokens;
    private readonly Dictionary<string, int> _addedIds = new(StringComparer.Ordinal);
    private readonly List<(PreTokenizeStep Step, Regex? Regex)> _steps = new();
    private readonly NormalizationForm? _normalization;
    private readonly byte[]?[] _bytes;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    private ByteLevelBpeTokenizer(string file, HfTokenizerJson json, byte[]?[] bytes, int? bos, int? eos, bool addBos,
        bool addEos, IEnumerable<int> specials, IEnumerable<AddedToken> added)
        : base(file, bytes.Length, bos, eos, addBos, addEos, specials)
    {
        _vocab = json.Vocab;
        for (int i = 0; i < json.Merges.Count; i++) _mergeRanks.TryAdd(json.Merges[i], i);
        _ignoreMerges = json.IgnoreMerges;
        _unkId = json.UnkToken is not null && _vocab.TryGetValue(json.UnkToken, out int u) ? u : null;
        _normalization = json.Normalization;
        _bytes = bytes;
        foreach (var t in added) _addedIds[t.Content] = t.Id;
        if (_addedIds.Count > 0)
            _addedTokens = new Regex(string.Join("|", _addedIds.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape)),
                RegexOptions.Compiled | RegexOptions.CultureInvariant);
        foreach (var step in json.PreTokenizer)
            _steps.Add((step, step switch
            {
                PreTokenizeStep.Split s => new Regex(s.IsRegex ? s.Pattern : Regex.Escape(s.Pattern), RegexOptions.Compiled),
                PreTokenizeStep.ByteLevel { UseRegex: true } => new Regex(Gpt2Pattern, RegexOptions.Compiled),
                PreTokenizeStep.Digits d => new Regex(d.Individual ? @"\p{Nd}" : @"\p{Nd}+", RegexOptions.Compiled),
                _ => null,
            }));
    }

    internal static ByteLevelBpeTokenizer Create(string file, HfTokenizerJson json, TokenizerConfig config)
    {
        if (!json.IsByteLevelBpe)
            throw new CheckpointException(file, $"only byte-level BPE tokenizer.json is supported ({json.Description}); " +
                $"provide {TokenizerLoader.ModelFile} for SentencePiece models");
        var added = json.AddedTokens.Concat(config.AddedTokens).GroupBy(t => t.Id).Select(g => g.Last()).ToList();
        int size = Math.Max(json.Vocab.Values.Max(), added.Select(t => t.Id).DefaultIfEmpty(0).Max()) + 1;
        var bytes = new byte[]?[size];
        foreach (var (token, id) in json.Vocab) bytes[id] = TokenBytes(token);
        var specials = new List<int>();
        foreach (var t in added)
        {
            if (t.Special) specials.Add(t.Id);
            else bytes[t.Id] = Encoding.UTF8.GetBytes(t.Content);
        }
        var configFile = Path.Combine(Path.GetDirectoryName(file) ?? ".", TokenizerConfig.FileName);
        int? Resolve(string? token) => token is null ? null
            : added.FirstOrDefault(t => t.Content == token) is { } a ? a.Id
            : json.Vocab.TryGetValue(token, out int id) ? id
            : throw new CheckpointException(configFile, $"token \"{token}\" is not in {Path.GetFileName(file)}");
        int? bos = Resolve(config.BosToken ?? json.TemplateBos);
        int? eos = Resolve(config.EosToken);
        if (Resolve(config.PadToken) is int pad) specials.Add(pad);
        if (Resolve(json.UnkToken) is int unk) specials.Add(unk);
        bool addBos = config.AddBosToken ?? json.TemplateBos is not null;
        return new ByteLevelBpeTokenizer(file, json, bytes, bos, eos, addBos, config.AddEosToken ?? false, specials, added);
    }

    protected override void EncodeCore(string text, List<int> ids)
    {
        int pos = 0;
        if (_addedTokens is not null)
            foreach (Match m in _addedTokens.Matches(text))
            {
                EncodeOrdinary(text[pos..m.Index], ids);
                ids.Add(_addedIds[m.Value]);
                pos = m.Index + m.Length;
            }
        EncodeOrdinary(text[pos..], ids);
    }

    private void EncodeOrdinary(string text, List<int> ids)
    {
        if (text.Length == 0) return;
        if (_normalization is { } form) text = text.Normalize(form);
        IEnumerable<string> pieces = new[] { text };
        foreach (var (step, regex) in _steps) pieces = pieces.SelectMany(p => Apply(step, regex, p)).ToList();
        foreach (var piece in pieces) ids.AddRange(_cache.TryGetValue(piece, out var c) ? c : Bpe(piece));
    }

    private static IEnumerable<string> Apply(PreTokenizeStep step, Regex? regex, string piece)
    {
        if (step is PreTokenizeStep.ByteLevel { AddPrefixSpace: true } && !piece.StartsWith(' ')) piece = " " + piece;
        if (regex is null) { yield return piece; yield break; }
        bool removeMatches = step is PreTokenizeStep.Split { RemoveMatches: true };
        int pos = 0;
        foreach (Match m in regex.Matches(piece))
        {
            if (m.Length == 0) continue;
            if (m.Index > pos) yield return piece[pos..m.Index];
            if (!removeMatches) yield return m.Value;
            pos = m.Index + m.Length;
        }
        if (pos < piece.Length) yield return piece[pos..];
    }

    /// <summary>Merges one pre-tokenized piece; lowest merge rank first, all occurrences at once (as GPT-2).</summary>
    private int[] Bpe(string piece)
    {
        var utf8 = Encoding.UTF8.GetBytes(piece);
        var mapped = new string(utf8.Select(b => ByteMap.ByteToChar[b]).ToArray());
        int[] result;
        if (_ignoreMerges && _vocab.TryGetValue(mapped, out int whole)) result = new[] { whole };
        else
        {
            var symbols = mapped.Select(c => c.ToString()).ToList();
            while (symbols.Count > 1)
            {
                int best = int.MaxValue;
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (_mergeRanks.TryGetValue((symbols[i], symbols[i + 1]), out int r) && r < best) best = r;
                if (best == int.MaxValue) break;
                var next = new List<string>(symbols.Count);
                for (int i = 0; i < symbols.Count; i++)
                {
                    if (i + 1 < symbols.Count && _mergeRanks.TryGetValue((symbols[i], symbols[i + 1]), out int r) && r == best)
                    {
                        next.Add(symbols[i] + symbols[i + 1]);
                        i++;
                    }
                    else next.Add(symbols[i]);
                }
                symbols = next;
            }
            result = symbols.Select(s => _vocab.TryGetValue(s, out int id) ? id : _unkId ?? -1).Where(id => id >= 0).ToArray();
        }
        if (_cache.Count < 100_000) _cache.TryAdd(piece, result);
        return result;
    }

    protected override void AppendTokenBytes(int id, bool firstContent, List<byte> bytes)
    {
        if (_bytes[id] is { } b) bytes.AddRange(b);
    }

    /// <summary>A vocab string's bytes: each char through GPT-2's unicode→byte map (UTF-8 for chars outside it).</summary>
    private static byte[] TokenBytes(string token)
    {
        var bytes = new List<byte>(token.Length);
        foreach (var c in token)
        {
            if (ByteMap.CharToByte.TryGetValue(c, out byte b)) bytes.Add(b);
            else bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
        }
        return bytes.ToArray();
    }

    /// <summary>GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards.</summary>
    internal static (char[], Dictionary<char, byte>) BuildByteMap()
    {
        var toChar = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            toChar[b] = printable ? (char)b : (char)(256 + n++);
        }
        return (toChar, toChar.Select((c, b) => (c, (byte)b)).ToDictionary(x => x.c, x => x.Item2));
    }

    /// <summary>The GPT-2 character for a byte (for building test vocabularies).</summary>
    public static char ByteToUnicode(byte b) => ByteMap.ByteToChar[b];
}
