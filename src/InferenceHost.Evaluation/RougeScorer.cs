namespace InferenceHost.Evaluation;

/// <summary>
/// ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum with the semantics of Google's rouge_score 0.1.2
/// (<c>rouge_scorer.RougeScorer(types, use_stemmer, split_summaries=False)</c>, default tokenizer).
/// <see cref="Score"/> mirrors <c>score(target, prediction)</c>, <see cref="ScoreMulti"/> mirrors
/// <c>score_multi(targets, prediction)</c>. Note the argument order here is prediction first.
/// </summary>
public sealed class RougeScorer
{
    private readonly RougeTokenizer _tokenizer;

    /// <summary>Creates a scorer for all four types; <paramref name="useStemmer"/> as rouge_score's <c>use_stemmer</c>.</summary>
    public RougeScorer(bool useStemmer = false) => _tokenizer = new RougeTokenizer(useStemmer);

    /// <summary>The tokenizer in use (rouge_score's DefaultTokenizer).</summary>
    public RougeTokenizer Tokenizer => _tokenizer;

    /// <summary>Scores <paramref name="prediction"/> against one <paramref name="reference"/>, per ROUGE type.</summary>
    public IReadOnlyDictionary<string, Score> Score(string prediction, string reference)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(reference);
        var refTokens = _tokenizer.Tokenize(reference);
        var predTokens = _tokenizer.Tokenize(prediction);
        return new Dictionary<string, Score>(StringComparer.Ordinal)
        {
            [RougeTypes.Rouge1] = ScoreNgrams(CreateNgrams(refTokens, 1), CreateNgrams(predTokens, 1)),
            [RougeTypes.Rouge2] = ScoreNgrams(CreateNgrams(refTokens, 2), CreateNgrams(predTokens, 2)),
            [RougeTypes.RougeL] = ScoreLcs(refTokens, predTokens),
            [RougeTypes.RougeLsum] = SummaryLevelLcs(SentenceTokens(reference), SentenceTokens(prediction)),
        };
    }

    /// <summary>
    /// Scores against several references: for each type separately, the score of the reference with the
    /// highest F-measure, the first one on ties (<c>np.argmax</c> in rouge_score's <c>score_multi</c>).
    /// </summary>
    public IReadOnlyDictionary<string, Score> ScoreMulti(string prediction, IReadOnlyList<string> references)
    {
        ArgumentNullException.ThrowIfNull(references);
        if (references.Count == 0) throw new ArgumentException("At least one reference is needed.", nameof(references));
        var perReference = references.Select(r => Score(prediction, r)).ToList();
        var best = new Dictionary<string, Score>(StringComparer.Ordinal);
        foreach (var type in RougeTypes.All)
        {
            Score chosen = perReference[0][type];
            for (int i = 1; i < perReference.Count; i++)
            {
                var candidate = perReference[i][type];
                if (candidate.FMeasure > chosen.FMeasure) chosen = candidate;
            }
            best[type] = chosen;
        }
        return best;
    }

    /// <summary>rougeLsum sentences: split on '\n' only, drop empty strings, tokenize each line.</summary>
    private List<IReadOnlyList<string>> SentenceTokens(string text) =>
        text.Split('\n').Where(s => s.Length > 0).Select(_tokenizer.Tokenize).ToList();

    private static Dictionary<NGram, int> CreateNgrams(IReadOnlyList<string> tokens, int n)
    {
        var counts = new Dictionary<NGram, int>();
        for (int i = 0; i + n <= tokens.Count; i++)
        {
            var key = new NGram(tokens, i, n);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        return counts;
    }

    private static Score ScoreNgrams(Dictionary<NGram, int> target, Dictionary<NGram, int> prediction)
    {
        int overlap = 0;
        foreach (var (ngram, count) in target) overlap += Math.Min(count, prediction.GetValueOrDefault(ngram));
        int targetCount = target.Values.Sum();
        int predictionCount = prediction.Values.Sum();
        double precision = (double)overlap / Math.Max(predictionCount, 1);
        double recall = (double)overlap / Math.Max(targetCount, 1);
        return Evaluation.Score.FromPrecisionRecall(precision, recall);
    }

    private static Score ScoreLcs(IReadOnlyList<string> target, IReadOnlyList<string> prediction)
    {
        if (target.Count == 0 || prediction.Count == 0) return Evaluation.Score.Zero;
        int lcs = Lcs.Table(target, prediction)[target.Count, prediction.Count];
        return Evaluation.Score.FromPrecisionRecall((double)lcs / prediction.Count, (double)lcs / target.Count);
    }

    /// <summary>rouge_score's <c>_summary_level_lcs</c>: union LCS per reference sentence, hits clipped by token counts.</summary>
    private static Score SummaryLevelLcs(List<IReadOnlyList<string>> refSents, List<IReadOnlyList<string>> canSents)
    {
        if (refSents.Count == 0 || canSents.Count == 0) return Evaluation.Score.Zero;
        int m = refSents.Sum(s => s.Count);
        int n = canSents.Sum(s => s.Count);
        if (m == 0 || n == 0) return Evaluation.Score.Zero;

        var countsRef = CountTokens(refSents);
        var countsCan = CountTokens(canSents);
        int hits = 0;
        foreach (var r in refSents)
        {
            foreach (var token in Lcs.UnionLcs(r, canSents))
            {
                if (countsCan.GetValueOrDefault(token) > 0 && countsRef.GetValueOrDefault(token) > 0)
                {
                    hits++;
                    countsCan[token]--;
                    countsRef[token]--;
                }
            }
        }
        return Evaluation.Score.FromPrecisionRecall((double)hits / n, (double)hits / m);
    }

    private static Dictionary<string, int> CountTokens(List<IReadOnlyList<string>> sentences)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in sentences)
            foreach (var t in s) counts[t] = counts.GetValueOrDefault(t) + 1;
        return counts;
    }
}
