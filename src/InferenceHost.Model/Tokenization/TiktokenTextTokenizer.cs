using System.Text;
using System.Text.RegularExpressions;
using InferenceHost.Model.Checkpoints;
using Microsoft.ML.Tokenizers;

namespace InferenceHost.Model.Tokenization;

/// <summary>
/// tiktoken-format <c>tokenizer.model</c>: one <c>base64(token bytes) rank</c> line per token (Llama 3's
/// <c>original/tokenizer.model</c>, the embedded cl100k_base). Encoding by Microsoft.ML.Tokenizers'
/// TiktokenTokenizer with the cl100k split regex (Llama 3 uses the same pattern); special tokens come
/// from tokenizer_config.json's added_tokens_decoder.
/// </summary>
public sealed class TiktokenTextTokenizer : TokenizerBase
{
    /// <summary>cl100k_base's pre-tokenization pattern; Llama 3's tokenizer uses the same one.</summary>
    public const string Cl100kPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private readonly TiktokenTokenizer _tiktoken;
    private readonly byte[]?[] _bytes;

    private TiktokenTextTokenizer(string file, TiktokenTokenizer tiktoken, byte[]?[] bytes, int? bos, int? eos,
        bool addBos, bool addEos, IEnumerable<int> specials)
        : base(file, bytes.Length, bos, eos, addBos, addEos, specials)
    {
        _tiktoken = tiktoken;
        _bytes = bytes;
    }

    /// <summary>Cheap format check: the first line is <c>base64 rank</c>.</summary>
    public static bool LooksLikeTiktoken(string file)
    {
        using var s = File.OpenRead(file);
        var head = new byte[256];
        int n = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        int eol = Array.IndexOf(head, (byte)'\n', 0, n);
        var line = Encoding.ASCII.GetString(head, 0, eol < 0 ? n : eol).TrimEnd('\r');
        return eol > 0 && TryParseLine(line, out _, out _);
    }

    private static bool TryParseLine(string line, out byte[] token, out int rank)
    {
        token = Array.Empty<byte>();
        rank = -1;
        int sp = line.IndexOf(' ');
        if (sp <= 0 || !int.TryParse(line.AsSpan(sp + 1), out rank) || rank < 0) return false;
        try { token = Convert.FromBase64String(line[..sp]); }
        catch (FormatException) { return false; }
        return token.Length > 0;
    }

    /// <summary>Reads the ranks; every line must be <c>base64 rank</c> with distinct tokens and ranks.</summary>
    internal static Dictionary<int, byte[]> ReadRanks(string file)
    {
        var ranks = new Dictionary<int, byte[]>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(file))
        {
            lineNo++;
            if (raw.Length == 0) continue;
            if (!TryParseLine(raw.TrimEnd('\r'), out var token, out int rank))
                throw new CheckpointException(file, $"line {lineNo} is not \"base64-token rank\" (tiktoken format)");
            if (!ranks.TryAdd(rank, token))
                throw new CheckpointException(file, $"line {lineNo}: rank {rank} appears twice");
        }
        if (ranks.Count == 0) throw new CheckpointException(file, "no tokens (empty tiktoken file)");
        return ranks;
    }

    public static TiktokenTextTokenizer Load(string file, TokenizerConfig config)
    {
        var ranks = ReadRanks(file);
        var added = config.AddedTokens.ToList();
        bool? addBosDefault = null;
        string? bosToken = config.BosToken, eosToken = config.EosToken;
        if (added.Count == 0 && ranks.Count == Llama3.BaseVocab && ranks.Keys.Max() == Llama3.BaseVocab - 1)
        {
            // A bare Llama 3 original/tokenizer.model: its 256 special tokens are not in the file.
            added = Llama3.SpecialTokens().ToList();
            bosToken ??= Llama3.Bos;
            eosToken ??= Llama3.Eos;
            addBosDefault = true;
        }

        int size = Math.Max(ranks.Keys.Max() + 1, added.Select(t => t.Id + 1).DefaultIfEmpty(0).Max());
        var bytes = new byte[]?[size];
        foreach (var (rank, token) in ranks) bytes[rank] = token;
        var specialTokens = new Dictionary<string, int>(StringComparer.Ordinal);
        var specialIds = new List<int>();
        foreach (var t in added)
        {
            specialTokens[t.Content] = t.Id;
            if (t.Special) specialIds.Add(t.Id);
            else bytes[t.Id] = Encoding.UTF8.GetBytes(t.Content);
        }

        var configFile = Path.Combine(Path.GetDirectoryName(file) ?? ".", TokenizerConfig.FileName);
        int? Resolve(string? token) => token is null ? null
            : specialTokens.TryGetValue(token, out int id) ? id
            : throw new CheckpointException(configFile, $"token \"{token}\" is not an added token of {Path.GetFileName(file)}");
        int? bos = Resolve(bosToken), eos = Resolve(eosToken);
        if (Resolve(config.PadToken) is int pad) specialIds.Add(pad);

        TiktokenTokenizer tiktoken;
        try
        {
            var pre = new RegexPreTokenizer(new Regex(Cl100kPattern, RegexOptions.Compiled), specialTokens);
            using var s = File.OpenRead(file);
            tiktoken = TiktokenTokenizer.Create(s, pre, normalizer: null, specialTokens);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new CheckpointException(file, $"not a readable tiktoken file ({ex.Message})", ex);
        }
        return new TiktokenTextTokenizer(file, tiktoken, bytes, bos, eos, config.AddBosToken ?? addBosDefault ?? false,
            config.AddEosToken ?? false, specialIds);
    }

    protected override void EncodeCore(string text, List<int> ids)
    {
        if (text.Length == 0) return;
        ids.AddRange(_tiktoken.EncodeToIds(text));
    }

    protected override void AppendTokenBytes(int id, bool firstContent, List<byte> bytes)
    {
        if (_bytes[id] is { } b) bytes.AddRange(b);
    }

    /// <summary>Meta's Llama 3 special tokens (tokenizer.py), used when a tiktoken file comes without a config.</summary>
    private static class Llama3
    {
        public const int BaseVocab = 128000;
        public const string Bos = "<|begin_of_text|>";
        public const string Eos = "<|end_of_text|>";

        public static IEnumerable<AddedToken> SpecialTokens()
        {
            var names = new List<string> { Bos, Eos, "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
                "<|reserved_special_token_2|>", "<|reserved_special_token_3|>", "<|start_header_id|>",
                "<|end_header_id|>", "<|reserved_special_token_4|>", "<|eot_id|>" };
            for (int i = 5; i < 256 - 5; i++) names.Add($"<|reserved_special_token_{i}|>");
            return names.Select((n, i) => new AddedToken(BaseVocab + i, n, Special: true));
        }
    }
}
