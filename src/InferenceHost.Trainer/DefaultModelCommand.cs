using InferenceHost.CommandLine;
using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Trainer;

/// <summary>
/// <c>default-model [--out DIR]</c>: writes the server's embedded demo model (<see cref="DemoModel"/>, shared
/// with the server), so the demo adapters are trained on the very base the server serves.
/// </summary>
public static class DefaultModelCommand
{
    public static int Run(CliArgs args, TextWriter log)
    {
        var dir = args.Get("out") ?? Path.Combine(".models", "default");
        DemoModel.Write(dir);
        log.WriteLine($"wrote the default demo model to {dir}");
        return 0;
    }
}
