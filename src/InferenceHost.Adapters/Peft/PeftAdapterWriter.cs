using System.Globalization;
using System.Text;
using System.Text.Json;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Adapters.Peft;

/// <summary>What a LoRA's adapter_config.json records.</summary>
public sealed record LoraFileSettings(int Rank, double Alpha, IReadOnlyCollection<LinearKind> Targets, bool UseRsLora = false, double Dropout = 0, IReadOnlyCollection<int>? Layers = null);

/// <summary>
/// Writes PEFT adapter directories as Hugging Face PEFT's save_pretrained does for LoRA and prompt tuning
/// (the layout of shared/fixtures/tiny-llama/adapters): adapter_config.json with the same fields in the
/// same order, adapter_model.safetensors with PEFT's key names, float32. The trainer, synth-adapters and
/// the benchmarks all write through here.
/// </summary>
public static class PeftAdapterWriter
{
    private static readonly Dictionary<string, string> Metadata = new() { ["format"] = "pt" };

    /// <summary>Writes a LoRA: <paramref name="modules"/> maps each site to A [r, in] and B [out, r].</summary>
    public static void WriteLora(string dir, string baseModel, LoraFileSettings s, IReadOnlyDictionary<LinearSite, (Tensor A, Tensor B)> modules)
    {
        Directory.CreateDirectory(dir);
        WriteJson(Path.Combine(dir, PeftNames.ConfigFile), w =>
        {
            w.WriteString("peft_type", PeftNames.LoraType);
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
        SafetensorsWriter.Write(Path.Combine(dir, PeftNames.WeightsFile),
            modules.SelectMany(m => new[] { (PeftNames.LoraKey(m.Key, LoraPart.A), m.Value.A), (PeftNames.LoraKey(m.Key, LoraPart.B), m.Value.B) })
                .Select(kv => new KeyValuePair<string, Tensor>(kv.Item1, kv.Item2.detach().to(ScalarType.Float32, CPU).contiguous())), Metadata);
    }

    /// <summary>Writes a prompt-tuning adapter: <paramref name="embeddings"/> is [n, hidden].</summary>
    /// <param name="init">PEFT's prompt_tuning_init: RANDOM, TEXT or SAMPLE_VOCAB.</param>
    public static void WriteSoftPrompt(string dir, string baseModel, Tensor embeddings, LlamaConfig config, string init = "RANDOM", string? initText = null)
    {
        Directory.CreateDirectory(dir);
        WriteJson(Path.Combine(dir, PeftNames.ConfigFile), w =>
        {
            w.WriteString("peft_type", PeftNames.PromptTuningType);
            w.WriteString("task_type", "CAUSAL_LM");
            w.WriteNumber("num_virtual_tokens", embeddings.shape[0]);
            w.WriteNumber("token_dim", config.HiddenSize);
            w.WriteNumber("num_transformer_submodules", 1);
            w.WriteNumber("num_attention_heads", config.NumAttentionHeads);
            w.WriteNumber("num_layers", config.NumHiddenLayers);
            w.WriteString("prompt_tuning_init", init);
            if (init == "TEXT")
            {
                w.WriteString("prompt_tuning_init_text", initText);
                w.WriteString("tokenizer_name_or_path", baseModel);
            }

            w.WriteString("base_model_name_or_path", baseModel);
            w.WriteBoolean("inference_mode", true);
        });
        using var scope = NewDisposeScope();
        SafetensorsWriter.Write(Path.Combine(dir, PeftNames.WeightsFile),
            [new KeyValuePair<string, Tensor>(PeftNames.SoftPromptKey, embeddings.detach().to(ScalarType.Float32, CPU).contiguous())], Metadata);
    }

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
