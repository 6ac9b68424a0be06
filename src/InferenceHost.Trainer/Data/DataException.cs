namespace InferenceHost.Trainer.Data;

/// <summary>A problem with one record of a data file: the message names the file and the 1-based line.</summary>
public sealed class DataException(string file, int line, string problem)
    : Exception(line > 0 ? $"{file}:{line}: {problem}" : $"{file}: {problem}")
{
    public string File { get; } = file;

    public int Line { get; } = line;

    public string Problem { get; } = problem;
}

/// <summary>What to do with a bad record (invalid JSON, missing field, empty, too long).</summary>
public enum BadRecordPolicy
{
    /// <summary>Stop with an error naming file and line (the default: never train on silently dropped data).</summary>
    Error,

    /// <summary>Skip it and count it by reason; the counts are printed and written to the report.</summary>
    Skip,
}

/// <summary>Skipped records by reason (only filled under <see cref="BadRecordPolicy.Skip"/>).</summary>
public sealed class SkipCounts
{
    private readonly Dictionary<string, int> counts = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, int> ByReason => counts;

    public int Total => counts.Values.Sum();

    public void Add(string reason) => counts[reason] = counts.GetValueOrDefault(reason) + 1;

    /// <summary>Throws under <see cref="BadRecordPolicy.Error"/>, else counts the skip.</summary>
    public void Handle(BadRecordPolicy policy, DataException problem, string reason)
    {
        if (policy == BadRecordPolicy.Error)
        {
            throw problem;
        }

        Add(reason);
    }

    public override string ToString() =>
        Total == 0 ? "none" : string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Value} {c.Key}"));
}
