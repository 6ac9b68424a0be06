using InferenceHost.CommandLine;
namespace InferenceHost.Trainer.Data;

/// <summary>One training data set of a run and its mixing weight.</summary>
public sealed record WeightedDataset(string Name, IReadOnlyList<TokenizedExample> Examples, double Weight);

/// <summary>
/// Multi-task mixing: each draw picks a data set with probability proportional to its weight, then the
/// next example of that data set (each data set walks its own seeded shuffle, reshuffled when used up).
/// Everything comes from one seeded <see cref="Random"/>, so the order is the same on every run.
/// </summary>
public sealed class Mixture
{
    private readonly IReadOnlyList<WeightedDataset> sets;
    private readonly double[] cumulative;
    private readonly Random random;
    private readonly int[][] orders;
    private readonly int[] cursors;

    public Mixture(IReadOnlyList<WeightedDataset> sets, int seed)
    {
        if (sets.Count == 0 || sets.Any(s => s.Examples.Count == 0))
        {
            throw new ArgumentException($"every training data set needs at least one example ({string.Join(", ", sets.Select(s => $"{s.Name}: {s.Examples.Count}"))})");
        }

        if (sets.Any(s => !(s.Weight > 0) || double.IsInfinity(s.Weight)))
        {
            throw new ArgumentException("mixing weights must be positive numbers");
        }

        this.sets = sets;
        random = new Random(seed);
        var total = sets.Sum(s => s.Weight);
        var acc = 0.0;
        cumulative = sets.Select(s => acc += s.Weight / total).ToArray();
        orders = sets.Select(s => Shuffle(s.Examples.Count)).ToArray();
        cursors = new int[sets.Count];
    }

    /// <summary>An epoch: as many draws as there are examples in all the sets together.</summary>
    public int EpochSize => sets.Sum(s => s.Examples.Count);

    /// <summary>Draws <paramref name="count"/> examples; returns them with the index of their data set.</summary>
    public List<(int Set, TokenizedExample Example)> Draw(int count)
    {
        var list = new List<(int, TokenizedExample)>(count);
        for (var n = 0; n < count; n++)
        {
            var u = random.NextDouble();
            var s = 0;
            while (s < cumulative.Length - 1 && u >= cumulative[s])
            {
                s++;
            }

            if (cursors[s] == orders[s].Length)
            {
                orders[s] = Shuffle(orders[s].Length);
                cursors[s] = 0;
            }

            list.Add((s, sets[s].Examples[orders[s][cursors[s]++]]));
        }

        return list;
    }

    private int[] Shuffle(int n)
    {
        var a = Enumerable.Range(0, n).ToArray();
        random.Shuffle(a);
        return a;
    }
}

/// <summary>Seeded train/validation/test splits of one record list.</summary>
public static class Splits
{
    public static (List<T> Train, List<T> Validation, List<T> Test) Split<T>(IReadOnlyList<T> items, double validation, double test, int seed)
    {
        if (validation < 0 || test < 0 || validation + test >= 1)
        {
            throw new CliException("--val-split and --test-split must be fractions with a sum below 1");
        }

        var order = Enumerable.Range(0, items.Count).ToArray();
        new Random(seed).Shuffle(order);
        var nv = (int)Math.Round(items.Count * validation);
        var nt = (int)Math.Round(items.Count * test);
        return (order.Skip(nv + nt).Order().Select(i => items[i]).ToList(),
            order.Take(nv).Order().Select(i => items[i]).ToList(),
            order.Skip(nv).Take(nt).Order().Select(i => items[i]).ToList());
    }
}
