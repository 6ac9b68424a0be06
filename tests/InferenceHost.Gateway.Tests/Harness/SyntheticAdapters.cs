using InferenceHost.Adapters.Peft;
using InferenceHost.Model.Llama;
using InferenceHost.Tests.Shared;
using static TorchSharp.torch;

namespace InferenceHost.Gateway.Tests.Harness;

/// <summary>A folder of small seeded LoRAs for the tiny fixture model (the replicas' shared adapter directory).</summary>
public static class SyntheticAdapters
{
    private static readonly Lazy<string> Twelve = new(() => Write(12));

    /// <summary>adapter-0 .. adapter-11: rank 4 on q_proj and v_proj, written once per test run.</summary>
    public static string TwelveDir => Twelve.Value;

    public static string Write(int count)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"gateway-adapters-{Environment.ProcessId}-{count}");
        var config = Model.Checkpoints.LlamaConfig.Load(Path.Combine(TestFixtures.ModelDir("tiny-llama"), "config.json"));
        using var generator = new Generator(7, CPU);
        LinearKind[] targets = [LinearKind.QProj, LinearKind.VProj];
        for (var i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            var modules = new Dictionary<LinearSite, (Tensor, Tensor)>();
            for (var layer = 0; layer < config.NumHiddenLayers; layer++)
            {
                foreach (var kind in targets)
                {
                    var (inF, outF) = config.LinearShape(kind);
                    modules[new LinearSite(layer, kind)] = (randn(4, inF, generator: generator) * 0.1, randn(outF, 4, generator: generator) * 0.02);
                }
            }

            PeftAdapterWriter.WriteLora(Path.Combine(dir, $"adapter-{i}"), "tiny-llama", new LoraFileSettings(4, 8, targets), modules);
        }

        return dir;
    }
}
