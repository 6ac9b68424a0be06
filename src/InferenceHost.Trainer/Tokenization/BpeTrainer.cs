using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using InferenceHost.Model.Tokenization;

namespace InferenceHost.Trainer.Tokenization;

/// <summary>One learned merge: the two tokens (GPT-2 byte characters) and the pair's count when it was chosen.</summary>
public sealed record BpeMerge(string Left, string Right, long Count);

/// <summary>
/// A trained byte-level BPE: ids 0-255 are the bytes (in byte order, spelled with GPT-2's byte-to-unicode
/// characters), then one id per merge result, then the special tokens.
/// </summary>
public sealed record BpeModel(IReadOnlyList<string> Tokens, IReadOnlyList<BpeMerge> Merges, IReadOnlyList<string> SpecialTokens,
    long Words, int UniqueWords, long TextBytes, long TrainingTokens)
{
    public int VocabSize => Tokens.Count + SpecialTokens.Count;

    public int SpecialId(string token) => Tokens.Count + SpecialTokens.ToList().IndexOf(token);
}

/// <summary>
/// Learns a byte-level BPE the way GPT-2 and Hugging Face's <c>BpeTrainer</c> do: the text is split by the
/// pre-tokenizer regex (Llama 3's), each piece's UTF-8 bytes start as one symbol each, and the most frequent
/// adjacent pair (counted over the pieces, weighted by how often each piece occurs) is merged, again and
/// again, until the vocabulary is full or no pair occurs <c>minFrequency</c> times. Ties go to the pair whose
/// left token, then right token, is smallest (ordinal order of the byte characters), so training is
/// deterministic. Pair counts are updated incrementally (only the pieces that contain the merged pair are
/// revisited) with a lazily invalidated max-heap, so thousands of merges over the DialogSum dialogues take seconds.
/// </summary>
public static class BpeTrainer
{
    /// <summary>Llama 3's pre-tokenizer pattern (GPT-4's cl100k): contractions, letters with one leading non-letter, up to 3 digits, punctuation runs, newlines, spaces.</summary>
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The regex with the options the server's tokenizer uses for a Split pre-tokenizer, so training and encoding split alike.</summary>
    public static Regex PreTokenizer { get; } = new(Llama3Pattern, RegexOptions.Compiled);

    /// <summary>How often each pre-tokenized piece occurs in the texts.</summary>
    public static Dictionary<string, long> CountPieces(IEnumerable<string> texts)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var text in texts)
        {
            foreach (var m in PreTokenizer.EnumerateMatches(text))
            {
                if (m.Length > 0)
                {
                    CollectionsMarshal.GetValueRefOrAddDefault(lookup, text.AsSpan(m.Index, m.Length), out _)++;
                }
            }
        }

        return counts;
    }

    public static BpeModel Train(IEnumerable<string> texts, int vocabSize, IReadOnlyList<string> specialTokens, int minFrequency = 2)
        => Train(CountPieces(texts), vocabSize, specialTokens, minFrequency);

    public static BpeModel Train(IReadOnlyDictionary<string, long> pieces, int vocabSize, IReadOnlyList<string> specialTokens, int minFrequency = 2)
    {
        if (specialTokens.Distinct(StringComparer.Ordinal).Count() != specialTokens.Count || specialTokens.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("special tokens must be distinct and not empty");
        }

        if (vocabSize < 256 + specialTokens.Count)
        {
            throw new ArgumentException($"a byte-level vocabulary needs at least 256 + {specialTokens.Count} special tokens = {256 + specialTokens.Count} ids; --vocab-size is {vocabSize}");
        }

        var tokens = Enumerable.Range(0, 256).Select(b => ByteLevelBpeTokenizer.ByteToUnicode((byte)b).ToString()).ToList();
        var ids = tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
        var words = new List<int[]>(pieces.Count);
        var freq = new List<long>(pieces.Count);
        long textBytes = 0, totalWords = 0;
        foreach (var (piece, count) in pieces.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var utf8 = Encoding.UTF8.GetBytes(piece);
            words.Add(utf8.Select(b => (int)b).ToArray());
            freq.Add(count);
            textBytes += utf8.Length * count;
            totalWords += count;
        }

        var pairCounts = new Dictionary<long, long>();
        var where = new Dictionary<long, HashSet<int>>();
        for (var w = 0; w < words.Count; w++)
        {
            var s = words[w];
            for (var i = 0; i + 1 < s.Length; i++)
            {
                var key = Key(s[i], s[i + 1]);
                CollectionsMarshal.GetValueRefOrAddDefault(pairCounts, key, out _) += freq[w];
                (CollectionsMarshal.GetValueRefOrAddDefault(where, key, out _) ??= []).Add(w);
            }
        }

        // Max-heap by (count desc, left asc, right asc): PriorityQueue is a min-heap, so the comparer inverts the count.
        var heap = new PriorityQueue<long, (long Count, string Left, string Right)>(Comparer<(long Count, string Left, string Right)>.Create((a, b) =>
            a.Count != b.Count ? b.Count.CompareTo(a.Count)
            : string.CompareOrdinal(a.Left, b.Left) is var l and not 0 ? l
            : string.CompareOrdinal(a.Right, b.Right)));
        foreach (var (key, count) in pairCounts)
        {
            heap.Enqueue(key, (count, tokens[Left(key)], tokens[Right(key)]));
        }

        var merges = new List<BpeMerge>();
        var merged = new HashSet<long>();
        var target = vocabSize - specialTokens.Count;
        var delta = new Dictionary<long, long>();
        while (tokens.Count < target && heap.TryDequeue(out var top, out var priority))
        {
            var current = pairCounts.GetValueOrDefault(top);
            if (merged.Contains(top) || current <= 0)
            {
                continue;
            }

            if (current != priority.Count)
            {
                // Stale: the pair lost occurrences since it was queued; queue it again with its count.
                heap.Enqueue(top, (current, priority.Left, priority.Right));
                continue;
            }

            if (current < minFrequency)
            {
                break;
            }

            int a = Left(top), b = Right(top);
            var text = tokens[a] + tokens[b];
            if (!ids.TryGetValue(text, out var z))
            {
                z = tokens.Count;
                tokens.Add(text);
                ids[text] = z;
            }

            merges.Add(new BpeMerge(tokens[a], tokens[b], current));
            merged.Add(top);
            delta.Clear();
            foreach (var w in where[top])
            {
                var s = words[w];
                var next = new List<int>(s.Length);
                for (var i = 0; i < s.Length; i++)
                {
                    if (i + 1 < s.Length && s[i] == a && s[i + 1] == b)
                    {
                        next.Add(z);
                        i++;
                    }
                    else
                    {
                        next.Add(s[i]);
                    }
                }

                if (next.Count == s.Length)
                {
                    continue; // no longer holds the pair (an earlier merge took one of its symbols)
                }

                for (var i = 0; i + 1 < s.Length; i++)
                {
                    CollectionsMarshal.GetValueRefOrAddDefault(delta, Key(s[i], s[i + 1]), out _) -= freq[w];
                }

                var n = next.ToArray();
                words[w] = n;
                for (var i = 0; i + 1 < n.Length; i++)
                {
                    var key = Key(n[i], n[i + 1]);
                    CollectionsMarshal.GetValueRefOrAddDefault(delta, key, out _) += freq[w];
                    if (key != top)
                    {
                        (CollectionsMarshal.GetValueRefOrAddDefault(where, key, out _) ??= []).Add(w);
                    }
                }
            }

            where.Remove(top);
            foreach (var (key, d) in delta)
            {
                if (d == 0)
                {
                    continue;
                }

                ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(pairCounts, key, out _);
                count += d;
                if (d > 0)
                {
                    heap.Enqueue(key, (count, tokens[Left(key)], tokens[Right(key)]));
                }
            }
        }

        long trainingTokens = 0;
        for (var w = 0; w < words.Count; w++)
        {
            trainingTokens += words[w].Length * freq[w];
        }

        return new BpeModel(tokens, merges, specialTokens, totalWords, words.Count, textBytes, trainingTokens);
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private static int Left(long key) => (int)(key >> 32);

    private static int Right(long key) => (int)(key & 0xFFFFFFFF);
}
