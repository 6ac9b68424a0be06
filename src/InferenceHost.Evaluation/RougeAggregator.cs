namespace InferenceHost.Evaluation;

/// <summary>
/// Corpus-level ROUGE as the plain arithmetic mean of per-example scores: precision, recall and F-measure
/// are each averaged separately over the examples added. This is the figure the metric goldens report
/// as <c>corpus.rouge_mean</c>; it equals the mean rouge_score's <c>BootstrapAggregator</c> resamples around,
/// without the bootstrap (whose "mid" is a random estimate and differs slightly).
/// </summary>
public sealed class RougeAggregator
{
    private readonly Dictionary<string, (double P, double R, double F)> _sums = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Adds one example's scores (as returned by <see cref="RougeScorer.Score"/> or <see cref="RougeScorer.ScoreMulti"/>).</summary>
    public void Add(IReadOnlyDictionary<string, Score> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        foreach (var (type, s) in scores)
        {
            var (p, r, f) = _sums.GetValueOrDefault(type);
            _sums[type] = (p + s.Precision, r + s.Recall, f + s.FMeasure);
            _counts[type] = _counts.GetValueOrDefault(type) + 1;
        }
    }

    /// <summary>Number of examples added for <paramref name="rougeType"/>.</summary>
    public int Count(string rougeType) => _counts.GetValueOrDefault(rougeType);

    /// <summary>Mean score per ROUGE type; empty when nothing was added.</summary>
    public IReadOnlyDictionary<string, Score> Mean()
    {
        var result = new Dictionary<string, Score>(StringComparer.Ordinal);
        foreach (var (type, (p, r, f)) in _sums)
        {
            int n = _counts[type];
            result[type] = new Score(p / n, r / n, f / n);
        }
        return result;
    }
}
