namespace InferenceHost.Evaluation;

/// <summary>
/// Longest-common-subsequence helpers mirroring rouge_score's <c>_lcs_table</c>, <c>_backtrack_norec</c>,
/// <c>lcs_ind</c> and <c>_union_lcs</c>. Which LCS the backtrack picks matters for ROUGE-Lsum, so the
/// tie-breaking is kept exactly: step back along the candidate only if that cell is strictly larger.
/// </summary>
internal static class Lcs
{
    /// <summary>(rows+1) x (cols+1) DP table; rows index <paramref name="reference"/>, columns <paramref name="candidate"/>.</summary>
    public static int[,] Table(IReadOnlyList<string> reference, IReadOnlyList<string> candidate)
    {
        int rows = reference.Count, cols = candidate.Count;
        var t = new int[rows + 1, cols + 1];
        for (int i = 1; i <= rows; i++)
        {
            for (int j = 1; j <= cols; j++)
            {
                t[i, j] = string.Equals(reference[i - 1], candidate[j - 1], StringComparison.Ordinal)
                    ? t[i - 1, j - 1] + 1
                    : Math.Max(t[i - 1, j], t[i, j - 1]);
            }
        }
        return t;
    }

    /// <summary>Reference indices of one LCS, in increasing order (<c>lcs_ind</c>).</summary>
    public static List<int> Indices(IReadOnlyList<string> reference, IReadOnlyList<string> candidate)
    {
        var t = Table(reference, candidate);
        int i = reference.Count, j = candidate.Count;
        var lcs = new List<int>();
        while (i > 0 && j > 0)
        {
            if (string.Equals(reference[i - 1], candidate[j - 1], StringComparison.Ordinal))
            {
                lcs.Add(i - 1);
                i--;
                j--;
            }
            else if (t[i, j - 1] > t[i - 1, j])
            {
                j--;
            }
            else
            {
                i--;
            }
        }
        lcs.Reverse();
        return lcs;
    }

    /// <summary>Tokens of <paramref name="reference"/> at the sorted union of its LCS positions against each candidate sentence.</summary>
    public static IEnumerable<string> UnionLcs(IReadOnlyList<string> reference, IEnumerable<IReadOnlyList<string>> candidates)
    {
        var union = new SortedSet<int>();
        foreach (var c in candidates) union.UnionWith(Indices(reference, c));
        return union.Select(i => reference[i]);
    }
}

/// <summary>An n-gram as a view on a token list, with value equality (rouge_score uses tuples as Counter keys).</summary>
internal readonly struct NGram : IEquatable<NGram>
{
    private readonly IReadOnlyList<string> _tokens;
    private readonly int _start;

    public NGram(IReadOnlyList<string> tokens, int start, int length)
    {
        _tokens = tokens;
        _start = start;
        Length = length;
    }

    public int Length { get; }

    public string this[int k] => _tokens[_start + k];

    public bool Equals(NGram other)
    {
        if (Length != other.Length) return false;
        for (int k = 0; k < Length; k++)
            if (!string.Equals(this[k], other[k], StringComparison.Ordinal)) return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is NGram other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        for (int k = 0; k < Length; k++) hash.Add(this[k], StringComparer.Ordinal);
        return hash.ToHashCode();
    }
}
