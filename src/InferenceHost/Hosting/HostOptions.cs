using System.ComponentModel.DataAnnotations;
using InferenceHost.Engine;

namespace InferenceHost.Hosting;

/// <summary><c>Model</c>: which checkpoint to serve and how.</summary>
public sealed class ModelOptions
{
    public const string Section = "Model";

    /// <summary>Checkpoint directory; empty = the built-in default model (the repository's <c>models/default</c>, copied beside the server by the build).</summary>
    public string Path { get; set; } = string.Empty;

    /// <summary>The name clients use in <c>model</c>; default the checkpoint directory's name.</summary>
    public string? Name { get; set; }

    public string DType { get; set; } = "float32";

    public string Device { get; set; } = "cpu";

    /// <summary>none (default), int8 or nf4: the linear modules' weights quantized at load (docs/lora-modes.md for LoRA on top).</summary>
    public string Quantization { get; set; } = "none";

    /// <summary>Decode-shaped CPU products through the C# kernels (docs/benchmarks.md); false = libtorch for every product.</summary>
    public bool DecodeKernels { get; set; } = true;

    /// <summary>With the kernels, a layer's q/k/v and gate/up products in one pool hand-off each (docs/benchmarks.md); false = one per module.</summary>
    public bool FuseProjections { get; set; } = true;
}

/// <summary><c>Adapters</c>: where adapters are discovered and from where they may be loaded.</summary>
public sealed class AdaptersOptions
{
    public const string Section = "Adapters";

    public string Directory { get; set; } = "adapters";

    /// <summary>Directories runtime loads may read from; default just <see cref="Directory"/>.</summary>
    public List<string> AllowedRoots { get; set; } = [];

    /// <summary>Allowed roots as full paths with links resolved.</summary>
    public IReadOnlyList<string> ResolvedRoots() =>
        (AllowedRoots.Count == 0 ? [Directory] : AllowedRoots).Select(PathGuard.Canonical).ToArray();
}

/// <summary>The engine's own defaults: the options below that the engine consumes default to these, so each value is written once.</summary>
internal static class EngineDefaults
{
    public static readonly EngineOptions Value = new();
}

/// <summary><c>Lora</c>: how LoRA deltas are applied and how many stay resident.</summary>
public sealed class LoraOptions
{
    public const string Section = "Lora";

    public string Mode { get; set; } = EngineDefaults.Value.Mode.ToString().ToLowerInvariant();

    [Range(1, 1024)]
    public int MaxSlots { get; set; } = EngineDefaults.Value.MaxLoraSlots;

    [Range(1, 4096)]
    public int MaxRank { get; set; } = EngineDefaults.Value.MaxLoraRank;

    /// <summary>LoRA CPU copies kept in memory; beyond it the least recently used reload from disk.</summary>
    [Range(1, 100_000)]
    public int MaxCpuAdapters { get; set; } = 64;

    /// <summary>Module kinds that get slot buffers (q_proj, ..., down_proj); empty = all seven.</summary>
    public List<string> TargetModules { get; set; } = [];

    /// <summary>Merged mode: how long one combination keeps the weights while others wait.</summary>
    [Range(1, 600_000)]
    public int MergedTurnMs { get; set; } = (int)EngineDefaults.Value.MergedTurn.TotalMilliseconds;

    public AutoLoraOptions Auto { get; set; } = new();
}

/// <summary><c>Lora:Auto</c>: auto mode's thresholds (docs/lora-modes.md).</summary>
public sealed class AutoLoraOptions
{
    [Range(2, 100_000)]
    public int Window { get; set; } = EngineDefaults.Value.Auto.Window;

    [Range(1, 100_000)]
    public int MinSamples { get; set; } = EngineDefaults.Value.Auto.MinSamples;

    [Range(0.0, 1.0)]
    public double EnterMergedShare { get; set; } = EngineDefaults.Value.Auto.EnterMergedShare;

    [Range(0.0, 1.0)]
    public double ExitMergedShare { get; set; } = EngineDefaults.Value.Auto.ExitMergedShare;

    [Range(0.0, 3600.0)]
    public double MinDwellSeconds { get; set; } = EngineDefaults.Value.Auto.MinDwell.TotalSeconds;
}

/// <summary><c>Engine</c>: batching and queue limits.</summary>
public sealed class EngineHostOptions
{
    public const string Section = "Engine";

    [Range(1, 4096)]
    public int MaxBatchSize { get; set; } = EngineDefaults.Value.MaxBatchSize;

    /// <summary>0 = the model's max positions.</summary>
    [Range(0, 1 << 20)]
    public int MaxSequenceLength { get; set; } = EngineDefaults.Value.MaxSequenceLength;

    [Range(1, 1 << 20)]
    public int MaxQueuedRequests { get; set; } = EngineDefaults.Value.MaxQueuedRequests;

    [Range(1, 1 << 20)]
    public int MaxPrefillTokensPerStep { get; set; } = EngineDefaults.Value.MaxPrefillTokensPerStep;
}

/// <summary><c>Auth</c>: bearer keys; none configured = open server.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    public List<string> ApiKeys { get; set; } = [];

    public List<string> AdminKeys { get; set; } = [];

    /// <summary>Put <c>/metrics</c> behind the API keys too (its labels name adapters: tenant data). Off by default so scrapers work unchanged.</summary>
    public bool ProtectMetrics { get; set; }
}

/// <summary><c>Server</c>: request limits.</summary>
public sealed class ServerOptions
{
    public const string Section = "Server";

    [Range(1, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 1 << 20;

    /// <summary>Per-request deadline (0 = none): generation stops with finish_reason "length" when it passes.</summary>
    [Range(0, 86400)]
    public int RequestTimeoutSeconds { get; set; } = 300;
}

/// <summary>
/// Top-level <c>ChatTemplate</c>: how chat messages become a prompt. <c>auto</c> (the checkpoint's own template),
/// a built-in name (<c>llama2</c>, <c>chatml</c>, <c>zephyr</c>, <c>plain</c>), a template file or an inline template.
/// </summary>
public sealed class ChatOptions
{
    public string ChatTemplate { get; set; } = ChatTemplateSetting.Auto;
}
