using InferenceHost.Adapters.Peft;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Llama;
using InferenceHost.Trainer.Training;
using static TorchSharp.torch;

namespace InferenceHost.Trainer.Output;

/// <summary>
/// The trainer's outputs: PEFT adapters (through the adapters project's PeftAdapterWriter, which the server's
/// tools share) and full Hugging Face checkpoints.
/// </summary>
public static class PeftWriter
{
    public const string ConfigFile = PeftNames.ConfigFile;
    public const string WeightsFile = PeftNames.WeightsFile;

    private static readonly Dictionary<string, string> Metadata = new() { ["format"] = "pt" };

    public static void WriteLora(string dir, TrainableLora lora, string baseModel)
    {
        var s = lora.Settings;
        PeftAdapterWriter.WriteLora(dir, baseModel, new LoraFileSettings(s.Rank, s.Alpha, s.Targets, s.UseRsLora, s.Dropout, s.Layers), lora.Matrices());
    }

    public static void WriteSoftPrompt(string dir, TrainableSoftPrompt prompt, LlamaConfig config, string baseModel) =>
        PeftAdapterWriter.WriteSoftPrompt(dir, baseModel, prompt.Embeddings, config, prompt.Init switch
        {
            PromptInit.Text => "TEXT",
            PromptInit.SampledVocab => "SAMPLE_VOCAB",
            _ => "RANDOM",
        }, prompt.InitText);

    /// <summary>
    /// A Hugging Face checkpoint directory: config.json, model.safetensors (every parameter, tied head
    /// left out as transformers does), and the base's tokenizer files copied. <paramref name="config"/>: the
    /// config to write when it is not the model's own (another <c>torch_dtype</c>).
    /// </summary>
    public static void WriteFull(string dir, LlamaForCausalLM model, string tokenizerSourceDir, LlamaConfig? config = null)
    {
        Directory.CreateDirectory(dir);
        using var scope = NewDisposeScope();
        SafetensorsWriter.Write(Path.Combine(dir, CheckpointReader.SingleFile),
            model.named_parameters().Select(p => new KeyValuePair<string, Tensor>(p.name, p.parameter.detach())), Metadata);
        File.WriteAllText(Path.Combine(dir, "config.json"), (config ?? model.Config).ToJson());
        foreach (var name in new[] { "tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json" })
        {
            var source = Path.Combine(tokenizerSourceDir, name);
            if (File.Exists(source) && Path.GetFullPath(source) != Path.GetFullPath(Path.Combine(dir, name)))
            {
                File.Copy(source, Path.Combine(dir, name), overwrite: true);
            }
        }
    }

    /// <summary>Bytes on disk of a directory's files (the adapter size reported).</summary>
    public static long SizeOnDisk(string dir) =>
        Directory.Exists(dir) ? new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.TopDirectoryOnly).Sum(f => f.Length) : 0;
}
