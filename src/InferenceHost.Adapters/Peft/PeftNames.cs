using InferenceHost.Model.Llama;

namespace InferenceHost.Adapters.Peft;

/// <summary>Which of a LoRA's two matrices a tensor is: A [r, in] or B [out, r].</summary>
public enum LoraPart
{
    A,
    B,
}

/// <summary>
/// The PEFT vocabulary in one place: file names, <c>peft_type</c> values, tensor key names and the LoRA scale.
/// The loader, the writer, the trainer and the evaluation all read it from here.
/// </summary>
public static class PeftNames
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    /// <summary>PEFT's pickle format, which is never loaded.</summary>
    public const string PickleFile = "adapter_model.bin";

    public const string LoraType = "LORA";
    public const string PromptTuningType = "PROMPT_TUNING";

    /// <summary>The prompt-tuning tensor [num_virtual_tokens, hidden].</summary>
    public const string SoftPromptKey = "prompt_embeddings";

    /// <summary>Every LoRA key starts with it: <c>base_model.model.{module path}.lora_A.weight</c>.</summary>
    public const string KeyPrefix = "base_model.model.";

    public static string LoraKey(LinearSite site, LoraPart part) => $"{KeyPrefix}{site.ModulePath}.{PartName(part)}.weight";

    public static string PartName(LoraPart part) => part == LoraPart.A ? "lora_A" : "lora_B";

    /// <summary>The part a key's part name is, or null for the parts we refuse (embedding LoRA, DoRA's magnitude).</summary>
    public static LoraPart? PartOf(string part) => part == "lora_A" ? LoraPart.A : part == "lora_B" ? LoraPart.B : null;

    /// <summary>
    /// PEFT's LoRA key grammar, the inverse of <see cref="LoraKey"/>: <c>{prefix}{module}.{part}.weight</c>, or
    /// <c>{prefix}{module}.{part}.{adapter name}.weight</c> as some PEFT versions save. Null when the key is not one.
    /// </summary>
    public static (string Module, string Part)? SplitLoraKey(string key)
    {
        if (!key.StartsWith(KeyPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var parts = key[KeyPrefix.Length..].Split('.');
        var at = Array.FindLastIndex(parts, p => p is "lora_A" or "lora_B" or "lora_embedding_A" or "lora_embedding_B" or "lora_magnitude_vector");
        return at < 1 || parts[^1] != "weight" || at < parts.Length - 3 ? null : (string.Join('.', parts[..at]), parts[at]);
    }

    /// <summary>PEFT's scale: alpha / r, or alpha / √r with rsLoRA.</summary>
    public static double Scale(double alpha, int rank, bool useRsLora) => useRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;

    /// <summary>The adapter kind a <c>peft_type</c> names, or null when we do not serve it.</summary>
    public static AdapterKind? KindOf(string peftType) => peftType switch
    {
        LoraType => AdapterKind.Lora,
        PromptTuningType => AdapterKind.SoftPrompt,
        _ => null,
    };

    /// <summary>The kind of the adapter in <paramref name="directory"/>, read from its config (errors name the adapter).</summary>
    public static AdapterKind ReadKind(string name, string directory)
    {
        var config = PeftConfig.Parse(name, Path.Combine(directory, ConfigFile));
        return KindOf(config.PeftType) ?? throw new AdapterException(name, "peft_type", $"'{config.PeftType}' is not supported ({LoraType} or {PromptTuningType})");
    }
}
