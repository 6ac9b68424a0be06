using System.Text.Json;
using System.Text.Json.Nodes;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Adapters.Peft;

/// <summary>Writes adapters in PEFT's layout, with the same keys, shapes and config fields as PEFT saves.</summary>
public static class PeftAdapterWriter
{
    /// <summary>Writes a LoRA: <paramref name="modules"/> maps each site to A [r, in] and B [out, r].</summary>
    public static void WriteLora(string dir, string baseModel, int rank, double alpha, bool useRslora,
        IReadOnlyDictionary<LinearSite, (Tensor A, Tensor B)> modules, double dropout = 0.0)
    {
        Directory.CreateDirectory(dir);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (site, (a, b)) in modules)
        {
            tensors[$"base_model.model.{site.ModulePath}.lora_A.weight"] = a;
            tensors[$"base_model.model.{site.ModulePath}.lora_B.weight"] = b;
        }

        var kinds = modules.Keys.Select(s => s.Kind).Distinct().Order().Select(LinearSite.ShortName).ToArray();
        var layers = modules.Keys.Select(s => s.Layer).Distinct().Order().ToArray();
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["r"] = rank,
            ["lora_alpha"] = alpha,
            ["lora_dropout"] = dropout,
            ["target_modules"] = new JsonArray(kinds.Select(k => (JsonNode)k!).ToArray()),
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["use_rslora"] = useRslora,
            ["base_model_name_or_path"] = baseModel,
            ["inference_mode"] = true,
            ["modules_to_save"] = null,
            ["layers_to_transform"] = null,
        };
        Save(dir, config, tensors);
    }

    /// <summary>Writes a prompt-tuning adapter: <paramref name="embeddings"/> is [n, hidden].</summary>
    public static void WriteSoftPrompt(string dir, string baseModel, Tensor embeddings, LlamaConfig baseConfig, string init = "RANDOM")
    {
        Directory.CreateDirectory(dir);
        var config = new JsonObject
        {
            ["peft_type"] = "PROMPT_TUNING",
            ["task_type"] = "CAUSAL_LM",
            ["num_virtual_tokens"] = embeddings.shape[0],
            ["token_dim"] = embeddings.shape[1],
            ["num_transformer_submodules"] = 1,
            ["num_attention_heads"] = baseConfig.NumAttentionHeads,
            ["num_layers"] = baseConfig.NumHiddenLayers,
            ["prompt_tuning_init"] = init,
            ["base_model_name_or_path"] = baseModel,
            ["inference_mode"] = true,
        };
        Save(dir, config, new Dictionary<string, Tensor> { ["prompt_embeddings"] = embeddings });
    }

    private static void Save(string dir, JsonObject config, Dictionary<string, Tensor> tensors)
    {
        SafetensorsWriter.Write(Path.Combine(dir, PeftAdapterLoader.WeightsFile),
            tensors.ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float32, CPU).contiguous()));
        File.WriteAllText(Path.Combine(dir, PeftAdapterLoader.ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
