using InferenceHost.Adapters;

namespace InferenceHost.Engine.Scheduling;

/// <summary>What the scheduler needs to know of a request (the engine's job; a plain record in tests).</summary>
internal interface IScheduled
{
    /// <summary>The LoRA combination ("" = base weights); merged mode groups requests by it.</summary>
    string LoraKey { get; }

    IReadOnlyList<LoraUse> Loras { get; }

    /// <summary>The device slots pinned for it while it runs unmerged (null = none pinned).</summary>
    IReadOnlyList<SlotWeight>? Slots { get; set; }

    /// <summary>No token generated yet: its next pass is (part of) its prefill.</summary>
    bool Prefilling { get; }

    /// <summary>Input positions not yet fed to the model.</summary>
    long Pending { get; }

    /// <summary>When it must end (null = never); an idle engine wakes up for it.</summary>
    DateTimeOffset? Deadline { get; }
}

/// <summary>A change to the weights the executor makes before anything else in the step.</summary>
internal abstract record ModeChange<T>(string Reason)
{
    /// <summary>Merge <paramref name="Key"/> into the weights (entering merged mode, or a new merged turn); <paramref name="Example"/> carries its LoRAs.</summary>
    public sealed record Merge(string Key, T? Example, string Reason) : ModeChange<T>(Reason);

    /// <summary>Restore the base weights and run every request on slots.</summary>
    public sealed record Unmerge(string Reason) : ModeChange<T>(Reason);
}

/// <summary>
/// The scheduler's decision for one step. The executor applies <see cref="Switch"/> first (and then asks for a
/// new plan); otherwise it fails <see cref="Fail"/>, starts <see cref="Admit"/> (their slots already pinned),
/// runs each of <see cref="Passes"/> as one forward pass (decode rows, then prefill chunks), or, when there is
/// nothing to run, sleeps until a new request arrives or <see cref="WakeAt"/>.
/// </summary>
internal sealed record StepPlan<T>(
    ModeChange<T>? Switch,
    IReadOnlyList<T> Admit,
    IReadOnlyList<(T Job, Exception Error)> Fail,
    IReadOnlyList<IReadOnlyList<(T Job, int Count)>> Passes,
    DateTimeOffset? WakeAt)
{
    public static StepPlan<T> Switching(ModeChange<T> change) => new(change, [], [], [], null);
}
