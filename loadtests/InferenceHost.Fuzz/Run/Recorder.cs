using InferenceHost.Fuzz.Cases;
using InferenceHost.Fuzz.Send;

namespace InferenceHost.Fuzz.Run;

/// <summary>Counts outcomes by status and by family (thread-safe) and saves every offending case.</summary>
public sealed class Recorder(OffenderStore store)
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, int> _byStatus = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, SortedDictionary<string, int>> _byFamily = new(StringComparer.Ordinal);
    private readonly List<string> _offences = [];

    public int Sent { get; private set; }

    public int ServerErrors { get; private set; }

    public int Resets { get; private set; }

    public int Hangs { get; private set; }

    public int BadBodies { get; private set; }

    public int Unshaped { get; private set; }

    public void Add(FuzzCase c, Outcome o)
    {
        string? saved = null;
        if (o.Offends)
        {
            saved = store.Save(c, o);
        }

        lock (_gate)
        {
            Sent++;
            _byStatus[o.Status] = _byStatus.GetValueOrDefault(o.Status) + 1;
            var family = _byFamily.TryGetValue(c.Family, out var f) ? f : _byFamily[c.Family] = new(StringComparer.Ordinal);
            family[o.Status] = family.GetValueOrDefault(o.Status) + 1;
            ServerErrors += o.IsServerError ? 1 : 0;
            Resets += o.IsReset ? 1 : 0;
            Hangs += o.Status == Outcome.Hang ? 1 : 0;
            BadBodies += o.Status is Outcome.BadSse or Outcome.BadJson ? 1 : 0;
            Unshaped += o.Unshaped ? 1 : 0;
            if (saved is not null)
            {
                _offences.Add($"{o.Status} {c.Family}: {c.Description}{(o.Problem is null ? string.Empty : $" ({o.Problem})")} -> {saved}");
            }
        }
    }

    public IReadOnlyDictionary<string, int> ByStatus
    {
        get
        {
            lock (_gate)
            {
                return new SortedDictionary<string, int>(_byStatus, StringComparer.Ordinal);
            }
        }
    }

    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> ByFamily
    {
        get
        {
            lock (_gate)
            {
                return _byFamily.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, int>)new SortedDictionary<string, int>(kv.Value, StringComparer.Ordinal));
            }
        }
    }

    public IReadOnlyList<string> Offences
    {
        get
        {
            lock (_gate)
            {
                return [.. _offences];
            }
        }
    }
}
