using System.Diagnostics;
using System.Text.Json;
using InferenceHost.Model;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Llama;
using InferenceHost.Model.Quantization;
using InferenceHost.Trainer.Data;
using InferenceHost.Trainer.Evaluation;
using InferenceHost.Trainer.Output;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InferenceHost.Trainer.Training;

/// <summary>One logged optimizer step.</summary>
public sealed record StepLog(int Step, double Loss, double LearningRate, double GradNorm, long Tokens, double Seconds);

/// <summary>One evaluation on the validation split.</summary>
public sealed record EvalLog(int Step, double ValidationLoss, TextScores? Scores);

/// <summary>A validation example for ROUGE: the prompt's ids and the reference completion.</summary>
public sealed record GenerationExample(IReadOnlyList<int> PromptIds, string Reference);

/// <summary>What a finished run reports.</summary>
/// <remarks>
/// <see cref="TrainTokens"/>, <see cref="TrainSeconds"/>, <see cref="StepSeconds"/> and <see cref="TrainFlops"/>
/// count this invocation only (a resumed run starts them again); <see cref="StepSeconds"/> is the time spent in
/// optimizer steps, without evaluations and checkpoint writes, and is what throughput and MFU divide by.
/// </remarks>
public sealed record TrainResult(
    List<StepLog> Steps, List<EvalLog> Evals, int? BestStep, bool StoppedEarly, int TotalSteps,
    long TrainableParameters, long BaseParameters, long TrainTokens, double TrainSeconds,
    double StepSeconds = 0, double TrainFlops = 0, MatmulPeak? Peak = null, bool StoppedAtTimeLimit = false)
{
    /// <summary>The peak measured again after training: on a shared machine the difference shows how much the load drifted.</summary>
    public MatmulPeak? PeakAtEnd { get; init; }

    /// <summary>How the base's linear weights were stored (int8 / nf4 for qlora).</summary>
    public WeightQuantization Quantization { get; init; }

    /// <summary>Resident bytes of the base's weights: every parameter plus quantized codes and scales (<see cref="LlamaForCausalLM.WeightBytes"/>).</summary>
    public long WeightBytes { get; init; }

    /// <summary>The process's peak working set at the end of the run (loading included): what training needed of RAM, not the weights alone.</summary>
    public long PeakWorkingSetBytes { get; init; }

    public double? MfuAgainstEndPeak => PeakAtEnd is { FlopsPerSecond: > 0 } p ? AchievedFlopsPerSecond / p.FlopsPerSecond : null;

    public double StepTokensPerSecond => TrainTokens / Math.Max(StepSeconds, 1e-9);

    public double AchievedFlopsPerSecond => TrainFlops / Math.Max(StepSeconds, 1e-9);

    /// <summary>Model FLOPs utilisation: achieved training FLOP/s over the measured matmul peak (null without a peak).</summary>
    public double? Mfu => Peak is { FlopsPerSecond: > 0 } p ? AchievedFlopsPerSecond / p.FlopsPerSecond : null;
}

/// <summary>
/// A training run over a loaded model with one of the four methods. Owns the trainable tensors (LoRA
/// matrices, soft prompt) and, for full fine-tuning and pre-training, turns on gradients for every weight.
/// </summary>
public sealed class TrainingRun : IDisposable
{
    private readonly LoadedModel loaded;
    private readonly TrainOptions o;
    private readonly List<Parameter> trainable;

    public TrainingRun(LoadedModel model, TrainOptions options)
    {
        loaded = model;
        o = options;
        var net = model.Model;
        if (net.Quantization != o.Quantization)
        {
            // Full fine-tuning would silently train only embeddings and norms of a quantized base (its linears are not parameters).
            throw new ArgumentException($"{o.Method.ToString().ToLowerInvariant()}: the base is loaded with quantization {net.Quantization.Name()}, the run expects {o.Quantization.Name()} (only qlora trains on a quantized base)");
        }

        switch (o.Method)
        {
            case Method.Lora or Method.QLora:
                Lora = new TrainableLora(net, o.Lora, o.Seed);
                trainable = Lora.Parameters.ToList();
                break;
            case Method.PromptTuning:
                SoftPrompt = new TrainableSoftPrompt(net, o.VirtualTokens, o.PromptInit, o.PromptInitText, model.Tokenizer, o.Seed);
                trainable = [SoftPrompt.Embeddings];
                break;
            default:
                trainable = net.parameters().ToList();
                foreach (var p in trainable)
                {
                    p.requires_grad = true;
                }

                break;
        }

        BaseParameters = net.parameters().Sum(p => p.numel());
        TrainableParameters = trainable.Sum(p => p.numel());
        TrainedExtraMatmul = o.TrainsLora ? TrainableParameters : 0;
    }

    /// <summary>Trained weights outside the base that take part in a matmul (LoRA's A and B), for <see cref="Flops.PerToken"/>.</summary>
    public long TrainedExtraMatmul { get; }

    public TrainableLora? Lora { get; }

    public TrainableSoftPrompt? SoftPrompt { get; }

    public LoadedModel Model => loaded;

    public long TrainableParameters { get; }

    public long BaseParameters { get; }

    /// <summary>Sum of the token cross-entropies over the batch's completion positions (a scalar tensor).</summary>
    public Tensor LossSum(Batch batch) => CausalLmLoss.Sum(loaded.Model, batch, Lora, SoftPrompt?.Embeddings);

    /// <summary>Mean token loss over the batches (no gradients, no dropout).</summary>
    public double ValidationLoss(IReadOnlyList<Batch> batches)
    {
        SetTraining(false);
        try
        {
            return CausalLmLoss.Mean(loaded.Model, batches, Lora, SoftPrompt?.Embeddings);
        }

        finally
        {
            SetTraining(true);
        }
    }

    /// <summary>Greedy completions with the current trainable state.</summary>
    public List<string> Generate(IReadOnlyList<IReadOnlyList<int>> prompts, int maxNewTokens)
    {
        SetTraining(false);
        try
        {
            return GreedyDecoder.Generate(loaded, prompts, maxNewTokens, Lora, SoftPrompt?.Embeddings.detach());
        }
        finally
        {
            SetTraining(true);
        }
    }

    /// <summary>Writes the result: a PEFT adapter, or a Hugging Face checkpoint for full / pretrain.</summary>
    public void Save(string dir, string baseModelName)
    {
        if (Lora is not null)
        {
            PeftWriter.WriteLora(dir, Lora, baseModelName);
        }
        else if (SoftPrompt is not null)
        {
            PeftWriter.WriteSoftPrompt(dir, SoftPrompt, loaded.Config, baseModelName);
        }
        else
        {
            PeftWriter.WriteFull(dir, loaded.Model, loaded.Directory);
        }
    }

    /// <summary>
    /// The micro-batches of the whole run, decided up front from the seed: epochs of mixture draws, each
    /// padded or packed. Resuming replays the same plan from the saved step.
    /// </summary>
    public (List<Batch> Plan, int Steps) BuildPlan(IReadOnlyList<WeightedDataset> sets, int padId)
    {
        var mixture = new Mixture(sets, o.Seed);
        var plan = new List<Batch>();
        List<Batch> Epoch()
        {
            var examples = mixture.Draw(mixture.EpochSize).Select(d => d.Example).ToList();
            return o.Packing ? Batching.Pack(examples, o.BatchSize, o.MaxLength, padId) : Batching.Pad(examples, o.BatchSize, padId, o.GroupByLength);
        }

        plan.AddRange(Epoch());
        var perEpoch = Math.Max(1, plan.Count / o.GradientAccumulation);
        var steps = o.MaxSteps ?? (perEpoch * o.Epochs);
        while (plan.Count < steps * o.GradientAccumulation)
        {
            plan.AddRange(Epoch());
        }

        return (plan, steps);
    }

    public TrainResult Run(IReadOnlyList<WeightedDataset> sets, IReadOnlyList<TokenizedExample> validation,
        IReadOnlyList<GenerationExample> rougeSamples, string outDir, string baseModelName, string? resumeDir, TextWriter log,
        MatmulPeak? peak = null)
    {
        var padId = loaded.Tokenizer.EosId ?? 0;
        var (plan, totalSteps) = BuildPlan(sets, padId);
        log.WriteLine($"plan: {plan.Count:N0} micro-batches, {100 * Batching.PaddingShare(plan):F1}% of their positions padding{(o.GroupByLength && !o.Packing ? " (grouped by length)" : "")}");
        var valBatches = Batching.Pad(o.EvalLossSamples > 0 ? validation.Take(o.EvalLossSamples).ToList() : validation, o.BatchSize, padId);
        using var optimizer = torch.optim.AdamW(trainable, o.LearningRate, o.Beta1, o.Beta2, 1e-8, o.WeightDecay);
        var steps = new List<StepLog>();
        var evals = new List<EvalLog>();
        var start = 0;
        double bestLoss = double.PositiveInfinity;
        int? bestStep = null;
        var badEvals = 0;
        Tensor[]? best = null;
        if (resumeDir is not null)
        {
            var state = Checkpoint.Load(resumeDir, trainable, optimizer, out best);
            (start, steps, evals, bestLoss, bestStep, badEvals) = (state.Step, state.Steps, state.Evals, state.BestLoss, state.BestStep, state.BadEvals);
            log.WriteLine($"resumed from {resumeDir} at step {start}");
            if (!o.KeepBest)
            {
                DisposeAll(best);
                best = null;
            }
            else if (bestStep is { } b && best is null)
            {
                if (b == start)
                {
                    best = trainable.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray(); // the best is the state resumed
                }
                else
                {
                    // A checkpoint written before it kept the best weights: that step's weights are gone, so the best is chosen again from here on.
                    log.WriteLine($"the checkpoint names step {b} as the best evaluation but does not hold its weights; the best is chosen again from step {start} on");
                    (bestLoss, bestStep) = (double.PositiveInfinity, null);
                }
            }
        }

        var clock = Stopwatch.StartNew();
        var stepClock = new Stopwatch();
        var lastSave = 0.0;
        var stoppedAtLimit = false;
        double flops = 0;
        long tokens = 0;
        var progress = new ProgressLine(log, "train", totalSteps, start);
        var stoppedEarly = false;
        var evalEvery = o.EvalEvery > 0 ? o.EvalEvery : totalSteps;
        var saveEvery = o.SaveEvery > 0 ? o.SaveEvery : evalEvery;
        for (var step = start; step < totalSteps; step++)
        {
            stepClock.Start();
            using (var scope = NewDisposeScope())
            {
                // Seeded per step: dropout masks are the same on every run and after a resume.
                torch.manual_seed(o.Seed + step);
                optimizer.zero_grad();
                var micro = plan.Skip(step * o.GradientAccumulation).Take(o.GradientAccumulation).ToList();
                var targets = micro.Sum(b => b.TargetCount);
                if (targets == 0)
                {
                    throw new InvalidOperationException($"step {step + 1}: the batch has no completion tokens to learn from (every label is masked); check --max-length and the template");
                }

                double lossSum = 0;
                foreach (var b in micro)
                {
                    using var inner = NewDisposeScope();
                    var loss = LossSum(b);
                    lossSum += loss.item<float>();
                    (loss / targets).backward();
                    tokens += b.TokenCount;
                    flops += b.TokenCount * Flops.PerToken(loaded.Config, o.Method, TrainedExtraMatmul, b.Width);
                }

                var gradNorm = o.MaxGradNorm > 0 ? torch.nn.utils.clip_grad_norm_(trainable, o.MaxGradNorm) : 0;
                var lr = LearningRate.At(step, totalSteps, o);
                foreach (var g in optimizer.ParamGroups)
                {
                    g.LearningRate = lr;
                }

                var mean = lossSum / targets;
                if (!double.IsFinite(mean))
                {
                    throw new InvalidOperationException($"step {step + 1}: the loss is {mean}; lower --lr or check the data");
                }

                optimizer.step();
                stepClock.Stop();
                steps.Add(new StepLog(step + 1, mean, lr, gradNorm, micro.Sum(b => b.TokenCount), clock.Elapsed.TotalSeconds));
                var stepSeconds = Math.Max(stepClock.Elapsed.TotalSeconds, 1e-9);
                var mfu = peak is { FlopsPerSecond: > 0 } ? $" MFU {100 * flops / stepSeconds / peak.FlopsPerSecond:F1}%" : "";
                progress.Update(step + 1, $"loss {mean:F4} lr {lr:E2} {tokens / stepSeconds:F0} tok/s {flops / stepSeconds / 1e9:F2} GFLOP/s{mfu}");
            }

            var done = step + 1;
            var minutes = clock.Elapsed.TotalMinutes;
            if (o.MaxMinutes > 0 && minutes >= o.MaxMinutes && done < totalSteps)
            {
                progress.Note($"time limit: {minutes:F1} of --max-minutes {o.MaxMinutes} at step {done}; evaluating, writing a checkpoint to resume from and the weights");
                stoppedAtLimit = true;
            }

            if (done % evalEvery == 0 || done == totalSteps || stoppedAtLimit)
            {
                if (valBatches.Count > 0)
                {
                    var valLoss = ValidationLoss(valBatches);
                    TextScores? scores = null;
                    if (o.EvalRougeSamples > 0 && rougeSamples.Count > 0)
                    {
                        var sample = rougeSamples.Take(o.EvalRougeSamples).ToList();
                        scores = TextScores.Compute(Generate(sample.Select(s => s.PromptIds).ToList(), o.EvalMaxNewTokens), sample.Select(s => s.Reference).ToList());
                    }

                    evals.Add(new EvalLog(done, valLoss, scores));
                    progress.Note($"step {done}: validation loss {valLoss:F4}" + (scores is null ? "" : $", ROUGE-L {scores.RougeL:F2} on {Math.Min(o.EvalRougeSamples, rougeSamples.Count)} samples"));
                    if (valLoss < bestLoss)
                    {
                        bestLoss = valLoss;
                        bestStep = done;
                        badEvals = 0;
                        if (o.KeepBest)
                        {
                            DisposeAll(best);
                            best = trainable.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
                        }
                    }
                    else if (o.EarlyStoppingPatience > 0 && ++badEvals >= o.EarlyStoppingPatience)
                    {
                        progress.Note($"early stop at step {done}: no better validation loss for {badEvals} evaluations (best at step {bestStep})");
                        stoppedEarly = true;
                    }
                }
            }

            var timeToSave = o.SaveEveryMinutes > 0 && minutes - lastSave >= o.SaveEveryMinutes;
            if ((done % saveEvery == 0 || timeToSave || stoppedAtLimit) && done < totalSteps && !stoppedEarly)
            {
                Checkpoint.Save(Path.Combine(outDir, "checkpoint"), trainable, optimizer,
                    new CheckpointState(done, steps, evals, bestLoss, bestStep, badEvals), best);
                lastSave = minutes;
                if (timeToSave || stoppedAtLimit)
                {
                    progress.Note($"checkpoint at step {done} ({minutes:F1} min) in {Path.Combine(outDir, "checkpoint")}");
                }
            }

            if (stoppedEarly || stoppedAtLimit)
            {
                break;
            }
        }

        progress.Finish();
        var seconds = clock.Elapsed.TotalSeconds;
        if (best is not null && bestStep != steps.LastOrDefault()?.Step)
        {
            using var noGrad = no_grad();
            for (var i = 0; i < trainable.Count; i++)
            {
                trainable[i].copy_(best[i]);
            }

            log.WriteLine($"kept the best evaluation's weights (step {bestStep})");
        }

        DisposeAll(best);
        Save(outDir, baseModelName);
        return new TrainResult(steps, evals, bestStep, stoppedEarly, totalSteps, TrainableParameters, BaseParameters, tokens, seconds,
            stepClock.Elapsed.TotalSeconds, flops, peak, stoppedAtLimit)
        {
            Quantization = loaded.Model.Quantization,
            WeightBytes = loaded.Model.WeightBytes,
            PeakWorkingSetBytes = Process.GetCurrentProcess().PeakWorkingSet64,
        };
    }

    private static void DisposeAll(Tensor[]? tensors)
    {
        foreach (var t in tensors ?? [])
        {
            t.Dispose();
        }
    }

    private void SetTraining(bool on)
    {
        if (Lora is not null)
        {
            Lora.Training = on;
        }
    }

    public void Dispose()
    {
        Lora?.Dispose();
        SoftPrompt?.Dispose();
        if (o.Method is Method.Full or Method.Pretrain)
        {
            foreach (var p in trainable)
            {
                p.requires_grad = false;
            }
        }
    }
}
