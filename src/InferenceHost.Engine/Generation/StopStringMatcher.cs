namespace InferenceHost.Engine.Generation;

/// <summary>
/// Watches streamed text for stop strings. Text that could still turn out to be the start of a stop
/// string is held back, so a client never sees part of a stop string.
/// </summary>
public sealed class StopStringMatcher
{
    private readonly IReadOnlyList<string> stops;
    private string pending = string.Empty;

    public StopStringMatcher(IReadOnlyList<string> stops) => this.stops = stops;

    public bool Stopped { get; private set; }

    /// <summary>Adds newly final text; returns the text that may be shown now.</summary>
    public string Push(string text)
    {
        if (Stopped || text.Length == 0)
        {
            return string.Empty;
        }

        if (stops.Count == 0)
        {
            return text;
        }

        pending += text;
        var cut = stops.Select(s => pending.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (cut >= 0)
        {
            Stopped = true;
            var shown = pending[..cut];
            pending = string.Empty;
            return shown;
        }

        // Hold back the longest tail of pending that is a proper prefix of some stop string.
        var hold = 0;
        foreach (var s in stops)
        {
            for (var n = Math.Min(s.Length - 1, pending.Length); n > hold; n--)
            {
                if (pending.AsSpan(pending.Length - n).SequenceEqual(s.AsSpan(0, n)))
                {
                    hold = n;
                    break;
                }
            }
        }

        var ready = pending[..^hold];
        pending = pending[^hold..];
        return ready;
    }

    /// <summary>At the end of generation: whatever was held back is shown after all.</summary>
    public string Flush()
    {
        var rest = Stopped ? string.Empty : pending;
        pending = string.Empty;
        return rest;
    }
}
