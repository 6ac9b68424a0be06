using System.Text.RegularExpressions;

namespace InferenceHost.Trainer.Evaluation;

/// <summary>
/// How varied a system's generations are, on lower-cased words (<c>\w+</c> runs and single punctuation marks):
/// <see cref="Distinct2"/> is Li et al. (2016)'s distinct-2, distinct word bigrams over all bigrams of all the
/// generations together; <see cref="RepetitionRate"/> is Welleck et al. (2019)'s seq-rep-4, the share of a
/// generation's 4-grams that repeat an earlier 4-gram of the same generation (1 − distinct/total), averaged
/// over the generations that have a 4-gram. Degenerate "the the the …" output has distinct-2 near 0 and a
/// repetition rate near 1; varied text has distinct-2 near 1 and a repetition rate near 0. Both are ×1 (0-1).
/// </summary>
public sealed partial record Diversity(double Distinct2, double RepetitionRate, int Bigrams, int GenerationsWith4Grams)
{
    [GeneratedRegex(@"\w+|[^\w\s]")]
    private static partial Regex Word();

    public static IReadOnlyList<string> Words(string text) => Word().Matches(text.ToLowerInvariant()).Select(m => m.Value).ToList();

    public static Diversity Compute(IEnumerable<string> generations)
    {
        var bigrams = new HashSet<(string, string)>();
        int totalBigrams = 0, with4 = 0;
        double repetition = 0;
        foreach (var g in generations)
        {
            var w = Words(g);
            for (var i = 0; i + 1 < w.Count; i++)
            {
                bigrams.Add((w[i], w[i + 1]));
                totalBigrams++;
            }

            if (w.Count >= 4)
            {
                var grams = Enumerable.Range(0, w.Count - 3).Select(i => string.Join('\u0001', w.Skip(i).Take(4))).ToList();
                repetition += 1 - ((double)grams.Distinct(StringComparer.Ordinal).Count() / grams.Count);
                with4++;
            }
        }

        return new Diversity(totalBigrams == 0 ? 0 : (double)bigrams.Count / totalBigrams, with4 == 0 ? 0 : repetition / with4, totalBigrams, with4);
    }
}
