namespace InferenceHost.Engine;

/// <summary>A change of LoRA mode and why it happened (auto mode's decisions are observable here).</summary>
public sealed record ModeSwitch(DateTimeOffset At, string From, string To, string Reason, TimeSpan Duration);

/// <summary>Counters and gauges the engine keeps for telemetry; read from any thread. The mode is read from its owner.</summary>
public sealed class EngineStats
{
    private readonly ModeController modes;
    private long mergedSwitches;
    private long mergedSwitchTicks;
    private long slotHits;
    private long slotMisses;
    private long steps;
    private long generatedTokens;

    internal EngineStats(ModeController modes) => this.modes = modes;

    public long MergedSwitches => Interlocked.Read(ref mergedSwitches);

    public TimeSpan MergedSwitchTime => TimeSpan.FromTicks(Interlocked.Read(ref mergedSwitchTicks));

    public long SlotHits => Interlocked.Read(ref slotHits);

    public long SlotMisses => Interlocked.Read(ref slotMisses);

    public long Steps => Interlocked.Read(ref steps);

    public long GeneratedTokens => Interlocked.Read(ref generatedTokens);

    public int QueueDepth { get; internal set; }

    public int Running { get; internal set; }

    public int LastBatchSize { get; internal set; }

    public int SlotsInUse { get; internal set; }

    /// <summary>Tensors alive on the engine thread (a leak shows up as steady growth under load).</summary>
    public long LiveTensors { get; internal set; }

    /// <summary>"unmerged", or "merged" (with the merged combination in <see cref="MergedKey"/>).</summary>
    public string Mode => modes.Current.Effective;

    public string? MergedKey => modes.Current.MergedKey;

    internal void MergedSwitch(TimeSpan took)
    {
        Interlocked.Increment(ref mergedSwitches);
        Interlocked.Add(ref mergedSwitchTicks, took.Ticks);
    }

    internal void Slot(bool hit) => Interlocked.Increment(ref hit ? ref slotHits : ref slotMisses);

    internal void Step(int batch, int tokens)
    {
        Interlocked.Increment(ref steps);
        Interlocked.Add(ref generatedTokens, tokens);
        LastBatchSize = batch;
    }
}
