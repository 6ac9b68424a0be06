using System.Text.Json.Serialization;
using InferenceHost.Model.Quantization;

namespace InferenceHost.Trainer.Training;

public enum Method
{
    Lora,

    /// <summary>LoRA on the frozen base quantized at load (<see cref="TrainOptions.Quantization"/>), as the server stores it.</summary>
    [JsonStringEnumMemberName("qlora")]
    QLora,
    PromptTuning,
    Full,
    Pretrain,
}

public enum Schedule
{
    Cosine,
    Linear,
    Constant,
}

/// <summary>Everything that decides a training run (written to the report as the run's settings).</summary>
public sealed record TrainOptions
{
    public Method Method { get; init; } = Method.Lora;

    public LoraSettings Lora { get; init; } = new();

    /// <summary>How the base's linear weights are stored while training: int8 or nf4 for QLoRA, none for every other method.</summary>
    public WeightQuantization Quantization { get; init; } = WeightQuantization.None;

    /// <summary>LoRA matrices are trained (lora and qlora).</summary>
    [JsonIgnore]
    public bool TrainsLora => Method is Method.Lora or Method.QLora;

    public int VirtualTokens { get; init; } = 20;

    public PromptInit PromptInit { get; init; } = PromptInit.Random;

    public string? PromptInitText { get; init; }

    public double LearningRate { get; init; } = 2e-4;

    public double MinLearningRateRatio { get; init; }

    public double WeightDecay { get; init; }

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.999;

    public int WarmupSteps { get; init; }

    public Schedule Schedule { get; init; } = Schedule.Cosine;

    public double MaxGradNorm { get; init; } = 1.0;

    public int BatchSize { get; init; } = 8;

    public int GradientAccumulation { get; init; } = 1;

    public int Epochs { get; init; } = 1;

    /// <summary>Optimizer steps; overrides <see cref="Epochs"/> when set.</summary>
    public int? MaxSteps { get; init; }

    public int MaxLength { get; init; } = 512;

    public bool Packing { get; init; }

    /// <summary>Padded batches of similar-length examples (<see cref="Data.Batching.GroupByLength"/>); ignored with <see cref="Packing"/>.</summary>
    public bool GroupByLength { get; init; }

    public int Seed { get; init; } = 42;

    /// <summary>Evaluate every N optimizer steps (0 = only at the end).</summary>
    public int EvalEvery { get; init; }

    /// <summary>Validation examples used for the loss (0 = all).</summary>
    public int EvalLossSamples { get; init; } = 200;

    /// <summary>Validation examples generated for ROUGE at each evaluation (0 = no ROUGE during training).</summary>
    public int EvalRougeSamples { get; init; } = 16;

    public int EvalMaxNewTokens { get; init; } = 48;

    /// <summary>Stop after this many evaluations without a better validation loss (0 = never).</summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>Write the best evaluation's weights as the result (else the last step's).</summary>
    public bool KeepBest { get; init; } = true;

    /// <summary>Write a resumable checkpoint every N steps (0 = at each evaluation).</summary>
    public int SaveEvery { get; init; }

    /// <summary>Also write a resumable checkpoint every M minutes of wall time (0 = off).</summary>
    public double SaveEveryMinutes { get; init; }

    /// <summary>Stop after M minutes of wall time with a checkpoint to resume from (0 = no limit).</summary>
    public double MaxMinutes { get; init; }

    /// <summary>libtorch intra-op threads (0 = libtorch's default, one per core).</summary>
    public int Threads { get; init; }

    public int LogEvery { get; init; } = 10;
}
