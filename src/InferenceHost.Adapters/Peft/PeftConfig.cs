using System.Text.Json;
using System.Text.Json.Serialization;

namespace InferenceHost.Adapters.Peft;

/// <summary>
/// The fields of a PEFT <c>adapter_config.json</c> that decide how an adapter is applied (LoRA or prompt
/// tuning). Read with System.Text.Json into <see cref="File"/>: a wrong type or a duplicate key is an error
/// naming the field; fields we do not use are allowed (PEFT adds some in every release). Then checked:
/// what we refuse (DoRA, modules_to_save, biases), invalid regexes, ranks below 1.
/// </summary>
public sealed record PeftConfig
{
    private static readonly JsonSerializerOptions Options = new()
    {
        AllowDuplicateProperties = false,
        NumberHandling = JsonNumberHandling.Strict,
        MaxDepth = 16,
    };

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
        File file;
        try
        {
            file = JsonSerializer.Deserialize<File>(System.IO.File.ReadAllBytes(path), Options)
                ?? throw new AdapterException(adapter, PeftNames.ConfigFile, "is not a JSON object");
        }
        catch (JsonException e)
        {
            var field = e.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : PeftNames.ConfigFile;
            throw new AdapterException(adapter, field, $"cannot be read ({e.Message})", e);
        }
        catch (IOException e)
        {
            throw new AdapterException(adapter, PeftNames.ConfigFile, $"cannot be read ({e.Message})", e);
        }

        return file.Check(adapter);
    }

    /// <summary>adapter_config.json as written; <see cref="Check"/> turns it into a <see cref="PeftConfig"/>.</summary>
    private sealed record File(
        [property: JsonPropertyName("peft_type")] string? PeftType,
        [property: JsonPropertyName("r")] int? R,
        [property: JsonPropertyName("lora_alpha")] double? LoraAlpha,
        [property: JsonPropertyName("target_modules"), JsonConverter(typeof(StringOrListConverter))] IReadOnlyList<string>? TargetModules,
        [property: JsonPropertyName("layers_to_transform"), JsonConverter(typeof(IntOrListConverter))] IReadOnlyList<int>? LayersToTransform,
        [property: JsonPropertyName("use_rslora")] bool? UseRslora,
        [property: JsonPropertyName("use_dora")] bool? UseDora,
        [property: JsonPropertyName("rank_pattern")] Dictionary<string, int>? RankPattern,
        [property: JsonPropertyName("alpha_pattern")] Dictionary<string, double>? AlphaPattern,
        [property: JsonPropertyName("fan_in_fan_out")] bool? FanInFanOut,
        [property: JsonPropertyName("bias")] string? Bias,
        [property: JsonPropertyName("modules_to_save")] JsonElement? ModulesToSave,
        [property: JsonPropertyName("base_model_name_or_path")] string? BaseModelNameOrPath,
        [property: JsonPropertyName("num_virtual_tokens")] int? NumVirtualTokens,
        [property: JsonPropertyName("token_dim")] int? TokenDim)
    {
        /// <summary>Set when target_modules was a single string (a regex, or "all-linear").</summary>
        [JsonIgnore]
        public bool TargetIsRegex => TargetModules is StringOrListConverter.Single;

        public PeftConfig Check(string adapter)
        {
            var type = PeftType ?? throw new AdapterException(adapter, "peft_type", "is missing");
            if (UseDora == true)
            {
                throw new AdapterException(adapter, "use_dora", "DoRA adapters are not supported (only plain LoRA)");
            }

            if (ModulesToSave is { ValueKind: JsonValueKind.Array } mts && mts.GetArrayLength() > 0)
            {
                throw new AdapterException(adapter, "modules_to_save", "adapters that replace whole modules are not supported");
            }

            if (Bias is { } bias && bias != "none")
            {
                throw new AdapterException(adapter, "bias", $"'{bias}' is not supported (only 'none')");
            }

            foreach (var (field, pattern) in Patterns())
            {
                if (TargetModulesRegexError(pattern) is { } error)
                {
                    throw new AdapterException(adapter, field, $"'{pattern}' is not a valid regular expression: {error}");
                }
            }

            if (RankPattern?.FirstOrDefault(kv => kv.Value < 1) is { Key: not null } bad)
            {
                throw new AdapterException(adapter, $"rank_pattern.{bad.Key}", $"rank {bad.Value} must be a positive integer");
            }

            return new PeftConfig
            {
                PeftType = type,
                R = R ?? 0,
                LoraAlpha = LoraAlpha ?? 0,
                UseRslora = UseRslora ?? false,
                FanInFanOut = FanInFanOut ?? false,
                BaseModelNameOrPath = BaseModelNameOrPath,
                NumVirtualTokens = NumVirtualTokens ?? 0,
                TokenDim = TokenDim ?? 0,
                LayersToTransform = LayersToTransform,
                RankPattern = RankPattern ?? [],
                AlphaPattern = AlphaPattern ?? [],
                TargetModuleRegex = TargetIsRegex ? TargetModules![0] : null,
                TargetModuleList = TargetIsRegex ? null : TargetModules,
            };
        }

        private IEnumerable<(string Field, string Pattern)> Patterns()
        {
            if (TargetIsRegex && TargetModules![0] != "all-linear")
            {
                yield return ("target_modules", TargetModules[0]);
            }

            foreach (var key in RankPattern?.Keys ?? Enumerable.Empty<string>())
            {
                yield return ($"rank_pattern.{key}", key);
            }

            foreach (var key in AlphaPattern?.Keys ?? Enumerable.Empty<string>())
            {
                yield return ($"alpha_pattern.{key}", key);
            }
        }

        private static string? TargetModulesRegexError(string pattern) => Peft.TargetModules.RegexError(pattern);
    }

    /// <summary>PEFT's target_modules: a list of names, or one string (a regex).</summary>
    private sealed class StringOrListConverter : JsonConverter<IReadOnlyList<string>>
    {
        public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
        {
            JsonTokenType.String => new Single(reader.GetString()!),
            JsonTokenType.StartArray => JsonSerializer.Deserialize<string[]>(ref reader, options)!,
            _ => throw new JsonException("must be a list of names or a regex string"),
        };

        public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options) => JsonSerializer.Serialize(writer, value.ToArray(), options);

        /// <summary>A single string, kept apart from a one-element list.</summary>
        public sealed class Single(string value) : List<string>([value]);
    }

    /// <summary>PEFT's layers_to_transform: an integer or a list of integers.</summary>
    private sealed class IntOrListConverter : JsonConverter<IReadOnlyList<int>>
    {
        public override IReadOnlyList<int> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
        {
            JsonTokenType.Number => [reader.GetInt32()],
            JsonTokenType.StartArray => JsonSerializer.Deserialize<int[]>(ref reader, options)!,
            _ => throw new JsonException("must be an integer or a list of integers"),
        };

        public override void Write(Utf8JsonWriter writer, IReadOnlyList<int> value, JsonSerializerOptions options) => JsonSerializer.Serialize(writer, value.ToArray(), options);
    }
}
