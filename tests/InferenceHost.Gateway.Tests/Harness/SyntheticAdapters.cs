using InferenceHost.Tests.Shared;
using InferenceHost.Tools;

namespace InferenceHost.Gateway.Tests.Harness;

/// <summary>A folder of small seeded LoRAs for the tiny fixture model (the replicas' shared adapter directory).</summary>
public static class SyntheticAdapters
{
    private static readonly Lazy<string> Twelve = new(() => Write(12));

    /// <summary>adapter-0 .. adapter-11: rank 4 on q_proj and v_proj, written once per test run.</summary>
    public static string TwelveDir => Twelve.Value;

    /// <summary>Writes them with the server's own <c>synth-adapters</c> verb (seed 7).</summary>
    public static string Write(int count)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"gateway-adapters-{Environment.ProcessId}-{count}");
        var verb = ToolVerbs.All.Single(v => v.Name == "synth-adapters");
        string[] args =
        [
            "--model", TestFixtures.ModelDir("tiny-llama"), "--out", dir, "--count", $"{count}", "--rank", "4", "--alpha", "8",
            "--targets", "q_proj,v_proj", "--seed", "7",
        ];
        var exit = verb.Run(verb.Parse(args), TextWriter.Null);
        return exit == 0 ? dir : throw new InvalidOperationException($"synth-adapters exited {exit}");
    }
}
