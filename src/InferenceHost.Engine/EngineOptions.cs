using InferenceHost.Model.Llama;

namespace InferenceHost.Engine;

/// <summary>How LoRA deltas are applied: see docs/lora-modes.md.</summary>
public enum LoraMode
{
    /// <summary>y = W·x + scale·B·(A·x) per row; one batch mixes adapters.</summary>
    Unmerged,

    /// <summary>One LoRA combination added into the weights at a time; requests grouped by it.</summary>
    Merged,

    /// <summary>Merged while one combination dominates recent traffic, unmerged otherwise (with hysteresis).</summary>
    Auto,
}

/// <summary>The engine's limits and adapter settings (bound from the Engine and Lora config sections).</summary>
public sealed record EngineOptions
{
    /// <summary>Most sequences decoding at once (KV cache rows).</summary>
    public int MaxBatchSize { get; init; } = 16;

    /// <summary>Longest sequence (soft prompt + prompt + output); 0 = the model's max positions.</summary>
    public int MaxSequenceLength { get; init; }

    /// <summary>Most prompt tokens prefilled in one step: long prompts are fed in chunks of this size.</summary>
    public int MaxPrefillTokensPerStep { get; init; } = 512;

    /// <summary>Most requests waiting for a batch row; beyond it submissions are refused (HTTP 429).</summary>
    public int MaxQueuedRequests { get; init; } = 256;

    public LoraMode Mode { get; init; } = LoraMode.Unmerged;

    /// <summary>Device slots for resident LoRAs (unmerged mode).</summary>
    public int MaxLoraSlots { get; init; } = 8;

    /// <summary>Largest rank a LoRA may have (the slot buffers' width).</summary>
    public int MaxLoraRank { get; init; } = 64;

    /// <summary>Module kinds that get slot buffers (default all seven).</summary>
    public IReadOnlyList<LinearKind> LoraTargets { get; init; } = LinearSite.AllKinds;

    /// <summary>Merged mode: how long one combination keeps the weights while others wait.</summary>
    public TimeSpan MergedTurn { get; init; } = TimeSpan.FromMilliseconds(500);

    public AutoModePolicy Auto { get; init; } = new();
}

/// <summary>
/// Auto mode's thresholds: over the requests in the engine (when at least <see cref="MinSamples"/>),
/// else over the last <see cref="Window"/> submissions, switch to merged when one LoRA combination has
/// at least <see cref="EnterMergedShare"/> of them, back to unmerged when its share falls below
/// <see cref="ExitMergedShare"/>; no switch within <see cref="MinDwell"/> of the last one.
/// </summary>
public sealed record AutoModePolicy
{
    public int Window { get; init; } = 16;

    public int MinSamples { get; init; } = 4;

    public double EnterMergedShare { get; init; } = 0.9;

    public double ExitMergedShare { get; init; } = 0.6;

    public TimeSpan MinDwell { get; init; } = TimeSpan.FromSeconds(2);
}
