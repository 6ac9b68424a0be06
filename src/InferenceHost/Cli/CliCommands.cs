using InferenceHost.CommandLine;
using InferenceHost.Adapters;
using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Cli;

/// <summary>The command-line verbs; anything else starts the HTTP server.</summary>
public static class CliCommands
{
    private static readonly Dictionary<string, (Func<CliArgs, TextWriter, int> Run, string[] Flags)> Verbs = new()
    {
        ["generate"] = ((a, o) => GenerateCommand.RunAsync(a, o).GetAwaiter().GetResult(), ["json"]),
        ["synth-checkpoint"] = (SynthCheckpointCommand.Run, []),
        ["synth-adapters"] = (SynthAdaptersCommand.Run, []),
        ["bench"] = (Bench.BenchCommand.Run, []),
        ["bench-lora"] = (Bench.LoraBenchCommand.Run, []),
        ["healthcheck"] = (HealthcheckCommand.Run, []),
        ["conformance"] = (Checks.ConformanceCommand.Run, ["report-only"]),
        ["dtype-compare"] = (Checks.DTypeCompareCommand.Run, []),
        ["logits"] = (Checks.LogitsCommand.Run, []),
        ["device-probe"] = (Checks.DeviceProbeCommand.Run, []),
    };

    public static bool TryRun(string[] args, out int exitCode)
    {
        exitCode = 0;
        if (args.Length == 0 || !Verbs.TryGetValue(args[0], out var verb))
        {
            return false;
        }

        try
        {
            exitCode = verb.Run(new CliArgs(args.Skip(1), verb.Flags.ToHashSet()), Console.Out);
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"{args[0]}: {e.Message}");
            exitCode = 2;
        }
        catch (Exception e) when (e is CheckpointException or AdapterException or ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException or Engine.UnknownAdapterException)
        {
            Console.Error.WriteLine($"{args[0]}: error: {e.Message}");
            exitCode = 1;
        }

        return true;
    }
}
