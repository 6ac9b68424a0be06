using InferenceHost.CommandLine;
using System.Text.Json;
using InferenceHost.Model.Checkpoints;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InferenceHost.Trainer.Training;

/// <summary>What a resumable checkpoint holds besides tensors.</summary>
public sealed record CheckpointState(int Step, List<StepLog> Steps, List<EvalLog> Evals, double BestLoss, int? BestStep, int BadEvals);

/// <summary>
/// Resumable training state: trainable tensors, AdamW moments, step and history, and the best evaluation's
/// trainable tensors when the run keeps them (<c>best.safetensors</c>): a run resumed after its best evaluation
/// must still be able to write that step's weights, not only name it.
/// </summary>
public static class Checkpoint
{
    private const string TrainableFile = "trainable.safetensors";
    private const string BestFile = "best.safetensors";

    public static void Save(string dir, IReadOnlyList<Parameter> trainable, OptimizerHelper optimizer, CheckpointState state, IReadOnlyList<Tensor>? best = null)
    {
        Directory.CreateDirectory(dir);
        Write(Path.Combine(dir, TrainableFile), trainable);
        var bestPath = Path.Combine(dir, BestFile);
        if (best is null)
        {
            File.Delete(bestPath);
        }
        else
        {
            Write(bestPath, best);
        }

        optimizer.save_state_dict(Path.Combine(dir, "optimizer.bin"));
        File.WriteAllText(Path.Combine(dir, "state.json"), JsonSerializer.Serialize(state with { BestLoss = double.IsFinite(state.BestLoss) ? state.BestLoss : double.MaxValue }));
    }

    /// <summary>Restores <paramref name="trainable"/> and the optimizer; <paramref name="best"/>: the kept best weights, when the checkpoint has them.</summary>
    public static CheckpointState Load(string dir, IReadOnlyList<Parameter> trainable, OptimizerHelper optimizer, out Tensor[]? best)
    {
        var statePath = Path.Combine(dir, "state.json");
        if (!File.Exists(statePath))
        {
            throw new CliException($"--resume {dir}: no state.json (expected a 'checkpoint' directory written by a previous run)");
        }

        using (var file = Open(dir, TrainableFile, trainable.Count))
        using (no_grad())
        {
            for (var i = 0; i < trainable.Count; i++)
            {
                using var t = file.Load($"p{i}", trainable[i].dtype, trainable[i].device);
                trainable[i].copy_(t);
            }
        }

        best = null;
        if (File.Exists(Path.Combine(dir, BestFile)))
        {
            using var file = Open(dir, BestFile, trainable.Count);
            best = trainable.Select((p, i) => file.Load($"p{i}", p.dtype, p.device).DetachFromDisposeScope()).ToArray();
        }

        optimizer.load_state_dict(Path.Combine(dir, "optimizer.bin"));
        return JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(statePath))
            ?? throw new CliException($"--resume {dir}: state.json is empty");
    }

    /// <summary>Trainable-shaped tensors as <c>p0</c>, <c>p1</c>, … in the run's order.</summary>
    private static void Write(string path, IEnumerable<Tensor> tensors) =>
        SafetensorsWriter.Write(path, tensors.Select((t, i) => new KeyValuePair<string, Tensor>($"p{i}", t)));

    /// <summary>Opens a file written by <see cref="Write"/>, refusing one whose tensor count is not this run's.</summary>
    private static SafetensorsFile Open(string dir, string name, int count)
    {
        var file = SafetensorsFile.Open(Path.Combine(dir, name));
        var found = file.Tensors.Count;
        if (found != count)
        {
            file.Dispose();
            throw new CliException($"--resume {dir}: {name} has {found} tensors but this run trains {count}; same method and settings?");
        }

        return file;
    }
}
