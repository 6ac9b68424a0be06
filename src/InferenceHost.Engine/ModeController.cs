namespace InferenceHost.Engine;

/// <summary>
/// Decides the effective LoRA mode. Fixed modes never change. Auto mode looks at LoRA combinations in two
/// places: the requests in the engine now (running and waiting), when there are at least MinSamples of
/// them, so a change of traffic is seen as soon as it reaches the queue; otherwise (light load) the last
/// <see cref="AutoModePolicy.Window"/> submissions. It wants merged while one combination holds at least
/// EnterMergedShare of them, unmerged once it falls below ExitMergedShare (hysteresis), never switching
/// twice within MinDwell.
/// </summary>
internal sealed class ModeController
{
    private readonly EngineOptions options;
    private readonly EngineStats stats;
    private readonly Queue<string> window = new();
    private readonly List<ModeSwitch> history = [];
    private readonly object gate = new();
    private DateTimeOffset lastSwitch = DateTimeOffset.MinValue;
    private bool wantMerged;

    public ModeController(EngineOptions options, EngineStats stats)
    {
        this.options = options;
        this.stats = stats;
        wantMerged = options.Mode == LoraMode.Merged;
    }

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
    public bool WantsMergedSoon => options.Mode == LoraMode.Auto && wantMerged && stats.Mode != "merged";

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

    public void Record(string from, string to, string reason, TimeSpan took)
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

        stats.Mode = to;
        Switched?.Invoke(entry);
    }
}
