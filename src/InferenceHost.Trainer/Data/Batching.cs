namespace InferenceHost.Trainer.Data;

/// <summary>
/// One micro-batch, right-padded: ids and labels [B, T] row-major; labels are -100 where no loss is taken
/// (prompt tokens, padding, a soft prompt's positions).
/// </summary>
public sealed record Batch(long[] Ids, long[] Labels, long[] Lengths, int Rows, int Width)
{
    public const long Ignore = -100;

    /// <summary>Positions that contribute to the loss (label of the next token is not ignored).</summary>
    public int TargetCount { get; } = Labels.Count(l => l != Ignore);

    public long TokenCount => Lengths.Sum();
}

/// <summary>How examples become rows: one padded row each, or several packed into full-length rows.</summary>
public static class Batching
{
    /// <summary>
    /// Labels for causal-LM training: position t predicts token t+1, so label[t] = ids[t+1] when token t+1
    /// is a completion token (or any token when the example has no prompt), else ignored.
    /// </summary>
    private static void FillRow(TokenizedExample e, long[] ids, long[] labels, int offset)
    {
        for (var t = 0; t < e.Ids.Length; t++)
        {
            ids[offset + t] = e.Ids[t];
            labels[offset + t] = t + 1 < e.Ids.Length && t + 1 >= Math.Max(e.PromptLength, 1) ? e.Ids[t + 1] : Batch.Ignore;
        }
    }

    /// <summary>Examples per length-sorted window: <see cref="GroupByLength"/> sorts 50 batches' worth at a time, as Hugging Face's LengthGroupedSampler does.</summary>
    public const int GroupWindowBatches = 50;

    /// <summary>One right-padded row per example, <paramref name="batchSize"/> rows per batch, each as wide as its longest row.</summary>
    public static List<Batch> Pad(IReadOnlyList<TokenizedExample> examples, int batchSize, int padId, bool groupByLength = false)
    {
        if (groupByLength)
        {
            examples = GroupByLength(examples, batchSize);
        }

        var batches = new List<Batch>();
        for (var at = 0; at < examples.Count; at += batchSize)
        {
            var rows = examples.Skip(at).Take(batchSize).ToArray();
            var width = rows.Max(r => r.Ids.Length);
            var ids = Enumerable.Repeat((long)padId, rows.Length * width).ToArray();
            var labels = Enumerable.Repeat(Batch.Ignore, rows.Length * width).ToArray();
            for (var r = 0; r < rows.Length; r++)
            {
                FillRow(rows[r], ids, labels, r * width);
            }

            batches.Add(new Batch(ids, labels, rows.Select(r => (long)r.Ids.Length).ToArray(), rows.Length, width));
        }

        return batches;
    }

    /// <summary>
    /// Hugging Face's <c>group_by_length</c> (its LengthGroupedSampler, less its own shuffle: the mixture's draw is
    /// already shuffled by the seed): windows of <see cref="GroupWindowBatches"/> batches' worth of examples in draw
    /// order, each sorted longest first (stable), so the rows of a batch are of similar length and padding mostly
    /// disappears. Every example still comes once per epoch and the order is still decided by the seed; what changes
    /// is which examples share a batch.
    /// </summary>
    public static List<TokenizedExample> GroupByLength(IReadOnlyList<TokenizedExample> examples, int batchSize)
    {
        var window = Math.Max(1, batchSize) * GroupWindowBatches;
        var grouped = new List<TokenizedExample>(examples.Count);
        for (var at = 0; at < examples.Count; at += window)
        {
            grouped.AddRange(examples.Skip(at).Take(window).OrderByDescending(e => e.Ids.Length));
        }

        return grouped;
    }

    /// <summary>The share of a plan's positions that are padding: 1 − tokens / (rows × width), over all its batches.</summary>
    public static double PaddingShare(IReadOnlyCollection<Batch> batches)
    {
        var positions = batches.Sum(b => (long)b.Rows * b.Width);
        return positions == 0 ? 0 : 1 - ((double)batches.Sum(b => b.TokenCount) / positions);
    }

    /// <summary>
    /// Packing: examples are laid end to end in rows of <paramref name="maxLength"/> (greedily, never split);
    /// each keeps its own label mask. Attention is causal over the whole row, as in Hugging Face's
    /// ConstantLengthDataset: a later example can see an earlier one, which costs little and saves the padding.
    /// </summary>
    public static List<Batch> Pack(IReadOnlyList<TokenizedExample> examples, int batchSize, int maxLength, int padId)
    {
        var rows = new List<List<TokenizedExample>>();
        var current = new List<TokenizedExample>();
        var used = 0;
        foreach (var e in examples)
        {
            if (used + e.Ids.Length > maxLength && current.Count > 0)
            {
                rows.Add(current);
                current = [];
                used = 0;
            }

            current.Add(e);
            used += e.Ids.Length;
        }

        if (current.Count > 0)
        {
            rows.Add(current);
        }

        var batches = new List<Batch>();
        for (var at = 0; at < rows.Count; at += batchSize)
        {
            var group = rows.Skip(at).Take(batchSize).ToArray();
            var lengths = group.Select(g => (long)g.Sum(e => e.Ids.Length)).ToArray();
            var width = (int)lengths.Max();
            var ids = Enumerable.Repeat((long)padId, group.Length * width).ToArray();
            var labels = Enumerable.Repeat(Batch.Ignore, group.Length * width).ToArray();
            for (var r = 0; r < group.Length; r++)
            {
                var offset = r * width;
                foreach (var e in group[r])
                {
                    FillRow(e, ids, labels, offset);
                    offset += e.Ids.Length;
                }
            }

            batches.Add(new Batch(ids, labels, lengths, group.Length, width));
        }

        return batches;
    }
}
