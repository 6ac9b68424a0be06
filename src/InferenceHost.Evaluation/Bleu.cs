namespace InferenceHost.Evaluation;

/// <summary>
/// BLEU with sacreBLEU 2.6.0's defaults: 13a tokenization, case-sensitive, <c>smooth_method="exp"</c>,
/// max n-gram order 4. <see cref="Sentence"/> mirrors <c>sacrebleu.sentence_bleu(hyp, refs)</c>
/// (<c>effective_order=True</c>); <see cref="Corpus"/> mirrors <c>BLEU().corpus_score(hyps, refs)</c>
/// (<c>effective_order=False</c>), summing segment statistics before scoring.
/// </summary>
public static class Bleu
{
    /// <summary>sacreBLEU's <c>MAX_NGRAM_ORDER</c>.</summary>
    public const int MaxNgramOrder = 4;

    /// <summary>Sentence-level BLEU of one hypothesis against one or more references.</summary>
    public static BleuScore Sentence(string hypothesis, IReadOnlyList<string> references)
    {
        ArgumentNullException.ThrowIfNull(hypothesis);
        ArgumentNullException.ThrowIfNull(references);
        if (references.Count == 0) throw new ArgumentException("At least one reference is needed.", nameof(references));
        return Compute(SegmentStatistics(hypothesis, references), effectiveOrder: true);
    }

    /// <summary>Sentence-level BLEU against a single reference.</summary>
    public static BleuScore Sentence(string hypothesis, string reference) => Sentence(hypothesis, [reference]);

    /// <summary>
    /// Corpus-level BLEU. <paramref name="referenceStreams"/> is laid out as in sacreBLEU: one list per
    /// reference stream, each holding one reference per hypothesis (so <c>[refs]</c> for a single reference).
    /// Unlike sacreBLEU, which silently truncates to the shortest, mismatched lengths are an error.
    /// </summary>
    public static BleuScore Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<IReadOnlyList<string>> referenceStreams)
    {
        ArgumentNullException.ThrowIfNull(hypotheses);
        ArgumentNullException.ThrowIfNull(referenceStreams);
        if (referenceStreams.Count == 0) throw new ArgumentException("At least one reference stream is needed.", nameof(referenceStreams));
        foreach (var stream in referenceStreams)
        {
            if (stream.Count != hypotheses.Count)
                throw new ArgumentException(
                    $"Each reference stream needs {hypotheses.Count} segments (one per hypothesis); found one with {stream.Count}.",
                    nameof(referenceStreams));
        }

        var stats = new List<BleuStatistics>(hypotheses.Count);
        for (int i = 0; i < hypotheses.Count; i++)
            stats.Add(SegmentStatistics(hypotheses[i], referenceStreams.Select(s => s[i]).ToList()));
        return Compute(BleuStatistics.Sum(stats), effectiveOrder: false);
    }

    /// <summary>Corpus-level BLEU with one reference per hypothesis.</summary>
    public static BleuScore Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references) =>
        Corpus(hypotheses, [references]);

    /// <summary>
    /// One segment's statistics (sacreBLEU <c>_extract_reference_info</c> + <c>_compute_segment_statistics</c>):
    /// reference n-gram counts are the maximum over references; ref_len is the closest reference length,
    /// the shorter on a tie. Every reference is kept, including empty ones (sacreBLEU drops only <c>None</c>).
    /// </summary>
    public static BleuStatistics SegmentStatistics(string hypothesis, IReadOnlyList<string> references)
    {
        ArgumentNullException.ThrowIfNull(hypothesis);
        ArgumentNullException.ThrowIfNull(references);
        var refNgrams = new Dictionary<NGram, int>();
        var refLens = new List<int>(references.Count);
        foreach (var reference in references)
        {
            var tokens = Preprocess(reference);
            refLens.Add(tokens.Count);
            foreach (var (ngram, count) in CountNgrams(tokens))
                refNgrams[ngram] = Math.Max(refNgrams.GetValueOrDefault(ngram), count);
        }

        var hypTokens = Preprocess(hypothesis);
        int refLen = ClosestRefLen(hypTokens.Count, refLens);
        var correct = new int[MaxNgramOrder];
        var total = new int[MaxNgramOrder];
        foreach (var (ngram, count) in CountNgrams(hypTokens))
        {
            int n = ngram.Length - 1;
            total[n] += count;
            if (refNgrams.TryGetValue(ngram, out var refCount)) correct[n] += Math.Min(count, refCount);
        }
        return new BleuStatistics(hypTokens.Count, refLen, correct, total);
    }

    /// <summary>
    /// sacreBLEU <c>BLEU.compute_bleu</c> with exp smoothing: brevity penalty, smoothed precisions, and the
    /// geometric mean over 4 orders (or, with <paramref name="effectiveOrder"/>, up to the highest order with
    /// a non-zero total). Log of a zero precision is sacreBLEU's <c>my_log</c> value, -9999999999.
    /// </summary>
    public static BleuScore Compute(BleuStatistics stats, bool effectiveOrder)
    {
        ArgumentNullException.ThrowIfNull(stats);
        int sysLen = stats.SysLen, refLen = stats.RefLen;
        double bp = sysLen < refLen ? (sysLen > 0 ? Math.Exp(1 - (double)refLen / sysLen) : 0.0) : 1.0;
        var precisions = new double[MaxNgramOrder];
        var counts = stats.Counts.ToArray();
        var totals = stats.Totals.ToArray();

        if (counts.All(c => c == 0))
            return new BleuScore(0.0, counts, totals, precisions, bp, sysLen, refLen);

        double smoothMteval = 1.0;
        int effOrder = MaxNgramOrder;
        for (int n = 1; n <= MaxNgramOrder; n++)
        {
            if (totals[n - 1] == 0) break;
            if (effectiveOrder) effOrder = n;
            if (counts[n - 1] == 0)
            {
                smoothMteval *= 2;
                precisions[n - 1] = 100.0 / (smoothMteval * totals[n - 1]);
            }
            else
            {
                precisions[n - 1] = 100.0 * counts[n - 1] / totals[n - 1];
            }
        }

        double logSum = 0.0;
        for (int n = 0; n < effOrder; n++) logSum += precisions[n] == 0.0 ? -9999999999.0 : Math.Log(precisions[n]);
        double score = bp * Math.Exp(logSum / effOrder);
        return new BleuScore(score, counts, totals, precisions, bp, sysLen, refLen);
    }

    /// <summary><c>BLEU._preprocess_segment</c> with <c>lowercase=False</c>: rstrip, then 13a.</summary>
    private static IReadOnlyList<string> Preprocess(string segment) => Tokenizer13a.TokenizeSegment(segment);

    /// <summary>n-gram counts for n = 1..4 (sacreBLEU <c>extract_all_word_ngrams</c>).</summary>
    private static Dictionary<NGram, int> CountNgrams(IReadOnlyList<string> tokens)
    {
        var counts = new Dictionary<NGram, int>();
        for (int n = 1; n <= MaxNgramOrder; n++)
        {
            for (int i = 0; i + n <= tokens.Count; i++)
            {
                var key = new NGram(tokens, i, n);
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }
        return counts;
    }

    /// <summary>sacreBLEU <c>_get_closest_ref_len</c>: the closest length, the shorter one on a tie.</summary>
    private static int ClosestRefLen(int hypLen, List<int> refLens)
    {
        int closestDiff = -1, closestLen = -1;
        foreach (int len in refLens)
        {
            int diff = Math.Abs(hypLen - len);
            if (closestDiff == -1 || diff < closestDiff)
            {
                closestDiff = diff;
                closestLen = len;
            }
            else if (diff == closestDiff && len < closestLen)
            {
                closestLen = len;
            }
        }
        return closestLen;
    }
}
