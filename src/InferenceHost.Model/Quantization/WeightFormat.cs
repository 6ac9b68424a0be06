namespace InferenceHost.Model.Quantization;

/// <summary><c>Model:Quantization</c>: how the linear modules' weights are stored (embeddings, norms and the head stay in the compute dtype).</summary>
public enum WeightQuantization
{
    /// <summary>The compute dtype, as loaded.</summary>
    None,

    /// <summary>Weight-only symmetric int8, one float32 scale (absmax / 127) per group of in-features of each output row.</summary>
    Int8,

    /// <summary>QLoRA's 4-bit NormalFloat, one float32 absmax per block of in-features of each output row.</summary>
    Nf4,
}

public static class WeightQuantizationNames
{
    public const string Allowed = "none, int8, nf4";

    /// <summary>Parses <c>none</c>, <c>int8</c> or <c>nf4</c> (case-insensitive); false for anything else.</summary>
    public static bool TryParse(string? text, out WeightQuantization value)
    {
        value = WeightQuantization.None;
        switch (text?.Trim().ToLowerInvariant())
        {
            case "none": return true;
            case "int8": value = WeightQuantization.Int8; return true;
            case "nf4": value = WeightQuantization.Nf4; return true;
            default: return false;
        }
    }

    /// <summary>Like <see cref="TryParse"/> but throws an <see cref="ArgumentException"/> naming the allowed values.</summary>
    public static WeightQuantization Parse(string? text, string what = "quantization") =>
        TryParse(text, out var v) ? v : throw new ArgumentException($"{what}: '{text}' is not one of {Allowed}");

    public static string Name(this WeightQuantization q) => q.ToString().ToLowerInvariant();

    /// <summary>
    /// Why merged LoRA mode refuses this base, or null when it does not (dense weights): a merge into quantized
    /// weights cannot be exact, so a quantized base serves LoRA unmerged (docs/lora-modes.md). One wording for the
    /// start-up check, the engine and the tools; each caller names its own setting.
    /// </summary>
    public static string? MergeRefusal(this WeightQuantization q, string setting = "Model:Quantization") => q == WeightQuantization.None
        ? null
        : $"merged mode needs dense base weights, but {setting} is '{q.Name()}' (a merge into quantized weights cannot be exact); use unmerged, or auto, which stays unmerged on a quantized base (docs/lora-modes.md)";
}
