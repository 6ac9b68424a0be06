using InferenceHost.Model.Quantization;
using static TorchSharp.torch;

namespace InferenceHost.CommandLine;

/// <summary>The command lines' dtype and quantization names (compiled into the tools and the trainer, as CliArgs is).</summary>
internal static class DTypes
{
    public static ScalarType Parse(string name) => name.ToLowerInvariant() switch
    {
        "float32" or "fp32" or "f32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" or "f16" => ScalarType.Float16,
        _ => throw new CliException($"--dtype: '{name}' is not one of float32, bfloat16, float16"),
    };

    /// <summary>A <c>--quantization</c> value: none, int8 or nf4.</summary>
    public static WeightQuantization ParseQuantization(string name) =>
        WeightQuantizationNames.TryParse(name, out var q) ? q : throw new CliException($"--quantization: '{name}' is not one of {WeightQuantizationNames.Allowed}");
}
