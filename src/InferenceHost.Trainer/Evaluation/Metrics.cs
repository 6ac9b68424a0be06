using InferenceHost.Evaluation;

namespace InferenceHost.Trainer.Evaluation;

/// <summary>ROUGE-1/2/L/Lsum F-measures and corpus BLEU, all ×100 (as papers report them).</summary>
public sealed record TextScores(double Rouge1, double Rouge2, double RougeL, double RougeLsum, double Bleu)
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
        return new TextScores(F(RougeTypes.Rouge1), F(RougeTypes.Rouge2), F(RougeTypes.RougeL), F(RougeTypes.RougeLsum), bleu);
    }
}
