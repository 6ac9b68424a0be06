using InferenceHost.Evaluation;

namespace InferenceHost.Trainer.Evaluation;

/// <summary>
/// ROUGE-1/2/L/Lsum F-measures, corpus BLEU and exact match, all ×100 (as papers report them). Exact match
/// compares the generation's first line with the reference, both lower-cased, with punctuation dropped and
/// runs of white space made one (SQuAD's normalization, less its article removal): the metric of short
/// labels such as a dialogue's topic, where ROUGE credits a near miss.
/// </summary>
public sealed record TextScores(double Rouge1, double Rouge2, double RougeL, double RougeLsum, double Bleu, double ExactMatch)
{
    /// <summary>rouge_score with the Porter stemmer (as Hugging Face's evaluate does); sacreBLEU 13a corpus BLEU.</summary>
    public static TextScores Compute(IReadOnlyList<string> predictions, IReadOnlyList<string> references)
    {
        var scorer = new RougeScorer(useStemmer: true);
        var agg = new RougeAggregator();
        for (var i = 0; i < predictions.Count; i++)
        {
            agg.Add(scorer.Score(predictions[i], references[i]));
        }

        var mean = agg.Mean();
        double F(string t) => mean.TryGetValue(t, out var s) ? s.FMeasure * 100 : 0;
        var bleu = predictions.Count == 0 ? 0 : InferenceHost.Evaluation.Bleu.Corpus(predictions, references).Score;
        var exact = predictions.Count == 0 ? 0 : 100.0 * predictions.Where((p, i) => Normalize(FirstLine(p)) == Normalize(references[i])).Count() / predictions.Count;
        return new TextScores(F(RougeTypes.Rouge1), F(RougeTypes.Rouge2), F(RougeTypes.RougeL), F(RougeTypes.RougeLsum), bleu, exact);
    }

    /// <summary>The metric names an evaluation card uses, in <see cref="CardScores"/>' order.</summary>
    public static IReadOnlyList<string> CardMetrics { get; } = ["rouge1", "rouge2", "rougeL", "rougeLsum", "bleu", "exact_match"];

    /// <summary>The scores by the names an evaluation card uses: ROUGE and exact match as fractions, BLEU on sacreBLEU's 0..100.</summary>
    public IReadOnlyDictionary<string, double> CardScores()
    {
        double[] values = [Rouge1 / 100, Rouge2 / 100, RougeL / 100, RougeLsum / 100, Bleu, ExactMatch / 100];
        return CardMetrics.Zip(values).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
    }

    private static string FirstLine(string text) => text.TrimStart().Split('\n', 2)[0];

    internal static string Normalize(string text) =>
        string.Join(' ', new string([.. text.ToLowerInvariant().Where(c => !char.IsPunctuation(c) && !char.IsSymbol(c))])
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
