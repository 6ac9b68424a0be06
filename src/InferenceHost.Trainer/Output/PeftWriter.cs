using System.Globalization;
using System.Text;
using System.Text.Json;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Llama;
using InferenceHost.Trainer.Training;
using static TorchSharp.torch;

namespace InferenceHost.Trainer.Output;

/// <summary>
/// Writes PEFT adapter directories exactly as Hugging Face PEFT's save_pretrained does for these two types
/// (the layout of the fixtures in shared/fixtures/tiny-llama/adapters): adapter_config.json with the same
/// fields in the same order, adapter_model.safetensors with PEFT's key names, float32.
/// </summary>
public static class PeftWriter
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    private static readonly Dictionary<string, string> Metadata = new() { ["format"] = "pt" };

    public static void WriteLora(string dir, TrainableLora lora, string baseModel)
    {
        Directory.CreateDirectory(dir);
        var s = lora.Settings;
        WriteJson(Path.Combine(dir, ConfigFile), w =>
        {
            w.WriteString("peft_type", "LORA");
            w.WriteString("task_type", "CAUSAL_LM");
            w.WriteNumber("r", s.Rank);
            WriteNumber(w, "lora_alpha", s.Alpha);
            w.WritePropertyName("lora_dropout");
            w.WriteRawValue(s.Dropout.ToString("0.0###", CultureInfo.InvariantCulture));
            w.WriteStartArray("target_modules");
            foreach (var k in s.Targets.Order())
            {
                w.WriteStringValue(LinearSite.ShortName(k));
            }

            w.WriteEndArray();
            w.WriteString("bias", "none");
            w.WriteBoolean("fan_in_fan_out", false);
            w.WriteBoolean("use_rslora", s.UseRsLora);
            w.WriteString("base_model_name_or_path", baseModel);
            w.WriteBoolean("inference_mode", true);
            w.WriteNull("modules_to_save");
            if (s.Layers is null)
            {
                w.WriteNull("layers_to_transform");
            }
            else
            {
                w.WriteStartArray("layers_to_transform");
                foreach (var l in s.Layers.Order())
                {
                    w.WriteNumberValue(l);
                }

                w.WriteEndArray();
            }
        });
        using var scope = NewDisposeScope();
        SafetensorsWriter.Write(Path.Combine(dir, WeightsFile),
            lora.NamedTensors().Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.detach().to_type(ScalarType.Float32))), Metadata);
    }

    public static void WriteSoftPrompt(string dir, TrainableSoftPrompt prompt, LlamaConfig config, string baseModel)
    {
        Directory.CreateDirectory(dir);
        WriteJson(Path.Combine(dir, ConfigFile), w =>
        {
            w.WriteString("peft_type", "PROMPT_TUNING");
            w.WriteString("task_type", "CAUSAL_LM");
            w.WriteNumber("num_virtual_tokens", prompt.VirtualTokens);
            w.WriteNumber("token_dim", config.HiddenSize);
            w.WriteNumber("num_transformer_submodules", 1);
            w.WriteNumber("num_attention_heads", config.NumAttentionHeads);
            w.WriteNumber("num_layers", config.NumHiddenLayers);
            w.WriteString("prompt_tuning_init", prompt.Init switch
            {
                PromptInit.Text => "TEXT",
                PromptInit.SampledVocab => "SAMPLE_VOCAB",
                _ => "RANDOM",
            });
            if (prompt.Init == PromptInit.Text)
            {
                w.WriteString("prompt_tuning_init_text", prompt.InitText);
                w.WriteString("tokenizer_name_or_path", baseModel);
            }

            w.WriteString("base_model_name_or_path", baseModel);
            w.WriteBoolean("inference_mode", true);
        });
        using var scope = NewDisposeScope();
        SafetensorsWriter.Write(Path.Combine(dir, WeightsFile),
            [new KeyValuePair<string, Tensor>("prompt_embeddings", prompt.Embeddings.detach().to_type(ScalarType.Float32))], Metadata);
    }

    /// <summary>
    /// A Hugging Face checkpoint directory: config.json, model.safetensors (every parameter, tied head
    /// left out as transformers does), and the base's tokenizer files copied.
    /// </summary>
    public static void WriteFull(string dir, LlamaForCausalLM model, string tokenizerSourceDir)
    {
        Directory.CreateDirectory(dir);
        using var scope = NewDisposeScope();
        SafetensorsWriter.Write(Path.Combine(dir, CheckpointReader.SingleFile),
            model.named_parameters().Select(p => new KeyValuePair<string, Tensor>(p.name, p.parameter.detach())), Metadata);
        File.WriteAllText(Path.Combine(dir, "config.json"), model.Config.ToJson());
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

    private static void WriteNumber(Utf8JsonWriter w, string name, double value)
    {
        if (value == Math.Floor(value) && Math.Abs(value) < 1e9)
        {
            w.WriteNumber(name, (long)value);
        }
        else
        {
            w.WriteNumber(name, value);
        }
    }

    private static void WriteJson(string path, Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        File.WriteAllText(path, Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
