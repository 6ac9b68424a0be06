using InferenceHost.CommandLine;
using InferenceHost.Adapters;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Trainer;
using InferenceHost.Trainer.Data;

// The trainer's verbs; see README.md.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine("usage: InferenceHost.Trainer train|pretrain|eval|default-model [options]  (see src/InferenceHost.Trainer/README.md)");
    return args.Length == 0 ? 2 : 0;
}

var commandLine = "InferenceHost.Trainer " + string.Join(' ', args.Select(a => a.Contains(' ') || a.Contains('\n') ? $"\"{a}\"" : a));
try
{
    return args[0] switch
    {
        "train" => TrainCommand.Run(new CliArgs(args.Skip(1), TrainCommand.Flags.ToHashSet()), Console.Error, pretrain: false, commandLine),
        "pretrain" => TrainCommand.Run(new CliArgs(args.Skip(1), TrainCommand.Flags.ToHashSet()), Console.Error, pretrain: true, commandLine),
        "eval" => EvalCommand.Run(new CliArgs(args.Skip(1), EvalCommand.Flags.ToHashSet()), Console.Error, commandLine),
        "default-model" => DefaultModelCommand.Run(new CliArgs(args.Skip(1), new HashSet<string>()), Console.Error),
        _ => throw new CliException($"unknown command '{args[0]}' (train, pretrain, eval, default-model)"),
    };
}
catch (CliException e)
{
    Console.Error.WriteLine($"{args[0]}: {e.Message}");
    return 2;
}
catch (Exception e) when (e is DataException or CheckpointException or AdapterException or IOException or InvalidOperationException or ArgumentException)
{
    Console.Error.WriteLine($"{args[0]}: error: {e.Message}");
    return 1;
}
