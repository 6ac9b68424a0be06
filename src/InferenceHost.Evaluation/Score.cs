namespace InferenceHost.Evaluation;

/// <summary>
/// Precision, recall and F1 of one ROUGE type, all in 0..1; rouge_score's <c>scoring.Score</c> named tuple.
/// </summary>
public readonly record struct Score(double Precision, double Recall, double FMeasure)
{
    /// <summary>The all-zero score rouge_score returns when a side has no tokens.</summary>
    public static Score Zero => default;

    /// <summary>Builds a score from P and R with rouge_score's <c>scoring.fmeasure</c>.</summary>
    public static Score FromPrecisionRecall(double precision, double recall) =>
        new(precision, recall, FMeasureOf(precision, recall));

    /// <summary>2PR / (P + R), or 0 when P + R is 0 (rouge_score <c>scoring.fmeasure</c>, same operation order).</summary>
    public static double FMeasureOf(double precision, double recall) =>
        precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

/// <summary>The ROUGE types rouge_score computes; names match its keys.</summary>
public static class RougeTypes
{
    /// <summary>Unigram overlap.</summary>
    public const string Rouge1 = "rouge1";

    /// <summary>Bigram overlap.</summary>
    public const string Rouge2 = "rouge2";

    /// <summary>LCS over the whole token sequences.</summary>
    public const string RougeL = "rougeL";

    /// <summary>Summary-level union LCS over newline-separated sentences.</summary>
    public const string RougeLsum = "rougeLsum";

    /// <summary>All four, in rouge_score's usual order.</summary>
    public static IReadOnlyList<string> All { get; } = [Rouge1, Rouge2, RougeL, RougeLsum];
}
