using InferenceHost.CommandLine;
using System.Text.Json;
using InferenceHost.Model.Checkpoints;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InferenceHost.Trainer.Training;

/// <summary>What a resumable checkpoint holds besides tensors.</summary>
public sealed record CheckpointState(int Step, List<StepLog> Steps, List<EvalLog> Evals, double BestLoss, int? BestStep, int BadEvals);

/// <summary>Resumable training state: trainable tensors, AdamW moments, step and history.</summary>
public static class Checkpoint
{
    public static void Save(string dir, IReadOnlyList<Parameter> trainable, OptimizerHelper optimizer, CheckpointState state)
    {
        Directory.CreateDirectory(dir);
        SafetensorsWriter.Write(Path.Combine(dir, "trainable.safetensors"),
            trainable.Select((p, i) => new KeyValuePair<string, Tensor>($"p{i}", p)));
        optimizer.save_state_dict(Path.Combine(dir, "optimizer.bin"));
        File.WriteAllText(Path.Combine(dir, "state.json"), JsonSerializer.Serialize(state with { BestLoss = double.IsFinite(state.BestLoss) ? state.BestLoss : double.MaxValue }));
    }

    public static CheckpointState Load(string dir, IReadOnlyList<Parameter> trainable, OptimizerHelper optimizer)
    {
        var statePath = Path.Combine(dir, "state.json");
        if (!File.Exists(statePath))
        {
            throw new CliException($"--resume {dir}: no state.json (expected a 'checkpoint' directory written by a previous run)");
        }

        using (var file = SafetensorsFile.Open(Path.Combine(dir, "trainable.safetensors")))
        using (no_grad())
        {
            if (file.Tensors.Count != trainable.Count)
            {
                throw new CliException($"--resume {dir}: the checkpoint has {file.Tensors.Count} tensors but this run trains {trainable.Count}; same method and settings?");
            }

            for (var i = 0; i < trainable.Count; i++)
            {
                using var t = file.Load($"p{i}", trainable[i].dtype, trainable[i].device);
                trainable[i].copy_(t);
            }
        }

        optimizer.load_state_dict(Path.Combine(dir, "optimizer.bin"));
        return JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(statePath))
            ?? throw new CliException($"--resume {dir}: state.json is empty");
    }
}
