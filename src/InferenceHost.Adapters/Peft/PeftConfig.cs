using System.Text.Json;

namespace InferenceHost.Adapters.Peft;

/// <summary>
/// The fields of a PEFT <c>adapter_config.json</c> that decide how an adapter is applied
/// (LoRA or prompt tuning). Parsed strictly: a wrong type is an error naming the field.
/// </summary>
public sealed record PeftConfig
{
    public required string PeftType { get; init; }

    public int R { get; init; }

    public double LoraAlpha { get; init; }

    /// <summary>A list (exact names or <c>.name</c> suffixes), a regex string, or "all-linear".</summary>
    public IReadOnlyList<string>? TargetModuleList { get; init; }

    public string? TargetModuleRegex { get; init; }

    public IReadOnlyList<int>? LayersToTransform { get; init; }

    public bool UseRslora { get; init; }

    public IReadOnlyDictionary<string, int> RankPattern { get; init; } = new Dictionary<string, int>();

    public IReadOnlyDictionary<string, double> AlphaPattern { get; init; } = new Dictionary<string, double>();

    public bool FanInFanOut { get; init; }

    public string? BaseModelNameOrPath { get; init; }

    public int NumVirtualTokens { get; init; }

    public int TokenDim { get; init; }

    public static PeftConfig Parse(string adapter, string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw new AdapterException(adapter, "adapter_config.json", $"cannot be read as JSON ({e.Message})", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new AdapterException(adapter, "adapter_config.json", "is not a JSON object");
            }

            var f = new Fields(adapter, root);
            var type = f.String("peft_type") ?? throw new AdapterException(adapter, "peft_type", "is missing");
            if (f.Bool("use_dora") == true)
            {
                throw new AdapterException(adapter, "use_dora", "DoRA adapters are not supported (only plain LoRA)");
            }

            if (root.TryGetProperty("modules_to_save", out var mts) && mts.ValueKind == JsonValueKind.Array && mts.GetArrayLength() > 0)
            {
                throw new AdapterException(adapter, "modules_to_save", "adapters that replace whole modules are not supported");
            }

            if (f.String("bias") is { } bias && bias != "none")
            {
                throw new AdapterException(adapter, "bias", $"'{bias}' is not supported (only 'none')");
            }

            var config = new PeftConfig
            {
                PeftType = type,
                R = f.Int("r") ?? 0,
                LoraAlpha = f.Double("lora_alpha") ?? 0,
                UseRslora = f.Bool("use_rslora") ?? false,
                FanInFanOut = f.Bool("fan_in_fan_out") ?? false,
                BaseModelNameOrPath = f.String("base_model_name_or_path"),
                NumVirtualTokens = f.Int("num_virtual_tokens") ?? 0,
                TokenDim = f.Int("token_dim") ?? 0,
                LayersToTransform = f.IntListOrInt("layers_to_transform"),
                RankPattern = f.Map<int>("rank_pattern", e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v) ? v : null),
                AlphaPattern = f.Map<double>("alpha_pattern", e => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : (double?)null),
            };

            if (root.TryGetProperty("target_modules", out var tm))
            {
                config = tm.ValueKind switch
                {
                    JsonValueKind.String => config with { TargetModuleRegex = tm.GetString() },
                    JsonValueKind.Array when tm.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String) =>
                        config with { TargetModuleList = tm.EnumerateArray().Select(x => x.GetString()!).ToArray() },
                    JsonValueKind.Null => config,
                    _ => throw new AdapterException(adapter, "target_modules", "must be a list of names or a regex string"),
                };
            }

            return config;
        }
    }

    private readonly struct Fields(string adapter, JsonElement root)
    {
        public string? String(string name) => Get(name, JsonValueKind.String, "a string")?.GetString();

        public bool? Bool(string name) =>
            root.TryGetProperty(name, out var e) && e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean()
            : e.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? null
            : throw new AdapterException(adapter, name, "must be true or false");

        public int? Int(string name) =>
            Get(name, JsonValueKind.Number, "an integer") is { } e ? (e.TryGetInt32(out var v) ? v : throw new AdapterException(adapter, name, "must be an integer")) : null;

        public double? Double(string name) => Get(name, JsonValueKind.Number, "a number")?.GetDouble();

        public IReadOnlyList<int>? IntListOrInt(string name)
        {
            if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var single))
            {
                return [single];
            }

            if (e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out _)))
            {
                return e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
            }

            throw new AdapterException(adapter, name, "must be an integer or a list of integers");
        }

        public IReadOnlyDictionary<string, T> Map<T>(string name, Func<JsonElement, T?> read)
            where T : struct
        {
            var result = new Dictionary<string, T>();
            if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null)
            {
                return result;
            }

            if (e.ValueKind != JsonValueKind.Object)
            {
                throw new AdapterException(adapter, name, "must be an object");
            }

            foreach (var p in e.EnumerateObject())
            {
                result[p.Name] = read(p.Value) ?? throw new AdapterException(adapter, $"{name}.{p.Name}", "has a value of the wrong type");
            }

            return result;
        }

        private JsonElement? Get(string name, JsonValueKind kind, string what)
        {
            if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return e.ValueKind == kind ? e : throw new AdapterException(adapter, name, $"must be {what}");
        }
    }
}
