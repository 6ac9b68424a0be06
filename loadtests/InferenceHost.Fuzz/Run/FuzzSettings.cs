using InferenceHost.Fuzz.Target;

namespace InferenceHost.Fuzz.Run;

/// <summary>One fuzz run: how many cases of which families, the broken adapter kinds, and the bounds the targets use.</summary>
public sealed record FuzzSettings
{
    public TargetOptions Target { get; init; } = new();

    public int Requests { get; init; } = 300;

    public int Seed { get; init; } = 1;

    public int Concurrency { get; init; } = 4;

    /// <summary>Empty = every family.</summary>
    public IReadOnlyList<string> Families { get; init; } = [];

    /// <summary>Null = every broken adapter kind; empty = none.</summary>
    public IReadOnlyList<string>? AdapterKinds { get; init; }

    /// <summary>A case without a complete answer after this is a hang.</summary>
    public double RequestTimeoutSeconds { get; init; } = 30;

    /// <summary>Framing cases that are partial on purpose wait this long, then close.</summary>
    public double PartialWaitSeconds { get; init; } = 2;

    /// <summary>Every admin load must answer within this (target).</summary>
    public double AdminBoundSeconds { get; init; } = 10;

    /// <summary>Largest RSS growth from after the first probes to the end (target).</summary>
    public double MaxRssGrowthMiB { get; init; } = 512;

    public string OutDir { get; init; } = "results/fuzz";
}
