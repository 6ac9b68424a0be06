namespace InferenceHost.Engine;

/// <summary>The LoRA mode as one value: what is configured, what is in effect, what the weights hold, and the last switch.</summary>
public sealed record ModeSnapshot(LoraMode Configured, string Effective, string? MergedKey, ModeSwitch? LastSwitch);

/// <summary>
/// The one owner of the engine's LoRA mode: the configured mode, the effective one, the combination merged into
/// the weights, and the history of switches with their reasons. Everything else (statistics, the API, the
/// scheduler) reads it here; only the engine thread changes it, after it has changed the weights.
/// <para>
/// It also holds auto mode's policy. Fixed modes never change. Auto mode looks at LoRA combinations in two
/// places: the requests in the engine now (running and waiting), when there are at least MinSamples of them,
/// so a change of traffic is seen as soon as it reaches the queue; otherwise (light load) the last
/// <see cref="AutoModePolicy.Window"/> submissions. It wants merged while one combination holds at least
/// EnterMergedShare of them, unmerged once it falls below ExitMergedShare (hysteresis), never switching twice
/// within MinDwell.
/// </para>
/// </summary>
internal sealed class ModeController
{
    private readonly EngineOptions options;
    private readonly Queue<string> window = new();
    private readonly List<ModeSwitch> history = [];
    private readonly object gate = new();
    private DateTimeOffset lastSwitch = DateTimeOffset.MinValue;
    private readonly bool quantizedBase;
    private bool wantMerged;
    private volatile ModeSnapshot current;

    /// <param name="quantizedBase">The base's weights are quantized: merging cannot be exact there, so auto mode stays unmerged.</param>
    public ModeController(EngineOptions options, bool quantizedBase = false)
    {
        this.options = options;
        this.quantizedBase = quantizedBase;
        wantMerged = options.Mode == LoraMode.Merged;
        current = new ModeSnapshot(options.Mode, "unmerged", null, null);
    }

    /// <summary>The mode now (any thread).</summary>
    public ModeSnapshot Current => current;

    /// <summary>The weights hold <see cref="ModeSnapshot.MergedKey"/> ("" = the base alone) and requests are grouped by it.</summary>
    public bool IsMerged => current.Effective == "merged";

    public IReadOnlyList<ModeSwitch> History
    {
        get
        {
            lock (gate)
            {
                return history.ToArray();
            }
        }
    }

    public string? DominantKey { get; private set; }

    /// <summary>Auto mode has decided on merged but the engine has not switched yet.</summary>
    public bool WantsMergedSoon => options.Mode == LoraMode.Auto && wantMerged && !IsMerged;

    /// <summary>When a decision may next change (auto mode's dwell), for an idle engine's wake-up.</summary>
    public DateTimeOffset? DwellEnds => options.Mode == LoraMode.Auto && lastSwitch != DateTimeOffset.MinValue ? lastSwitch + options.Auto.MinDwell : null;

    /// <summary>Records a submission's LoRA combination (called on the submitting thread).</summary>
    public void Observe(string key)
    {
        lock (gate)
        {
            window.Enqueue(key);
            while (window.Count > options.Auto.Window)
            {
                window.Dequeue();
            }
        }
    }

    /// <param name="demand">The LoRA combination of every request in the engine (running and waiting).</param>
    public bool WantMerged(IReadOnlyCollection<string> demand, out string reason)
    {
        reason = string.Empty;
        if (options.Mode != LoraMode.Auto)
        {
            reason = $"Lora:Mode is {options.Mode.ToString().ToLowerInvariant()}";
            return wantMerged;
        }

        if (quantizedBase)
        {
            reason = "the base is quantized (Model:Quantization): auto mode stays unmerged";
            return false;
        }

        lock (gate)
        {
            var policy = options.Auto;
            if (DateTimeOffset.UtcNow - lastSwitch < policy.MinDwell)
            {
                return wantMerged;
            }

            var (keys, what) = demand.Count >= policy.MinSamples
                ? (demand, $"the {demand.Count} requests in the engine")
                : ((IReadOnlyCollection<string>)window, $"the last {window.Count} requests");
            if (keys.Count < policy.MinSamples)
            {
                return wantMerged;
            }

            var top = keys.GroupBy(k => k).OrderByDescending(g => g.Count()).First();
            var share = (double)top.Count() / keys.Count;
            var label = top.Key.Length == 0 ? "the base model" : top.Key;
            if (!wantMerged && share >= policy.EnterMergedShare)
            {
                wantMerged = true;
                DominantKey = top.Key;
                reason = $"{label} has {share:P0} of {what} (≥ {policy.EnterMergedShare:P0})";
            }
            else if (wantMerged && share < policy.ExitMergedShare)
            {
                wantMerged = false;
                reason = $"the most used combination ({label}) has {share:P0} of {what} (< {policy.ExitMergedShare:P0})";
            }

            return wantMerged;
        }
    }

    public event Action<ModeSwitch>? Switched;

    /// <summary>The weights now hold <paramref name="key"/>: entering merged mode records a switch, a new turn within it does not.</summary>
    public void Merged(string key, string? reason = null, TimeSpan took = default)
    {
        var entering = !IsMerged;
        current = current with { Effective = "merged", MergedKey = key };
        if (entering)
        {
            Record("unmerged", "merged", reason ?? string.Empty, took);
        }
    }

    /// <summary>The base weights are back and requests run on slots.</summary>
    public void Unmerged(string reason, TimeSpan took)
    {
        current = current with { Effective = "unmerged", MergedKey = null };
        Record("merged", "unmerged", reason, took);
    }

    private void Record(string from, string to, string reason, TimeSpan took)
    {
        ModeSwitch entry;
        lock (gate)
        {
            lastSwitch = DateTimeOffset.UtcNow;
            entry = new ModeSwitch(lastSwitch, from, to, reason, took);
            history.Add(entry);
            if (history.Count > 1000)
            {
                history.RemoveAt(0); // keep the recent past observable without growing forever
            }
        }

        current = current with { LastSwitch = entry };
        Switched?.Invoke(entry);
    }
}
