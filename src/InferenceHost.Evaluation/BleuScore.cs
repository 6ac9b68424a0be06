namespace InferenceHost.Evaluation;

/// <summary>
/// A BLEU result with the fields of sacreBLEU's <c>BLEUScore</c>: <see cref="Score"/> and
/// <see cref="Precisions"/> are percentages (0..100, precisions after smoothing); counts and totals are the
/// clipped matches and hypothesis n-grams for n = 1..4; <see cref="Ratio"/> is sys_len / ref_len (0 when
/// ref_len is 0).
/// </summary>
public sealed record BleuScore(
    double Score,
    IReadOnlyList<int> Counts,
    IReadOnlyList<int> Totals,
    IReadOnlyList<double> Precisions,
    double BrevityPenalty,
    int SysLen,
    int RefLen)
{
    /// <summary>sys_len / ref_len, or 0 when ref_len is 0 (as sacreBLEU).</summary>
    public double Ratio => RefLen != 0 ? (double)SysLen / RefLen : 0.0;

    /// <summary>sacreBLEU's one-line form, e.g. <c>BLEU = 5.44 21.2/6.7/3.4/1.8 (BP = 1.000 ratio = 1.063 hyp_len = 5760 ref_len = 5419)</c>.</summary>
    public override string ToString()
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string precisions = string.Join("/", Precisions.Select(p => p.ToString("F1", inv)));
        return string.Create(inv,
            $"BLEU = {Score:F2} {precisions} (BP = {BrevityPenalty:F3} ratio = {Ratio:F3} hyp_len = {SysLen} ref_len = {RefLen})");
    }
}

/// <summary>
/// Sufficient statistics of BLEU for one segment or a whole corpus (sacreBLEU's stats list:
/// <c>[hyp_len, ref_len] + correct + total</c>); corpus BLEU sums them before scoring.
/// </summary>
public sealed record BleuStatistics(int SysLen, int RefLen, IReadOnlyList<int> Counts, IReadOnlyList<int> Totals)
{
    /// <summary>Element-wise sum (sacreBLEU's <c>sum_of_lists</c>).</summary>
    public static BleuStatistics Sum(IEnumerable<BleuStatistics> stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        int sys = 0, @ref = 0;
        var counts = new int[Bleu.MaxNgramOrder];
        var totals = new int[Bleu.MaxNgramOrder];
        foreach (var s in stats)
        {
            sys += s.SysLen;
            @ref += s.RefLen;
            for (int n = 0; n < Bleu.MaxNgramOrder; n++)
            {
                counts[n] += s.Counts[n];
                totals[n] += s.Totals[n];
            }
        }
        return new BleuStatistics(sys, @ref, counts, totals);
    }
}
