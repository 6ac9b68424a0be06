using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Adapters.Peft;

/// <summary>
/// Reads a PEFT adapter directory (adapter_config.json + adapter_model.safetensors) for a given base
/// model and checks it against that base: every refusal names the adapter and the field.
/// </summary>
public static class PeftAdapterLoader
{
    /// <summary>Largest |scale| (alpha/r, alpha/√r) accepted: real adapters use 0.1–10; more is a broken config.</summary>
    public const double MaxScale = 1000;

    private const string ConfigFile = PeftNames.ConfigFile;
    private const string WeightsFile = PeftNames.WeightsFile;

    /// <param name="name">The adapter's name (used in every message).</param>
    /// <param name="directory">The adapter directory.</param>
    /// <param name="baseConfig">The base model's config: shapes are checked against it.</param>
    /// <param name="baseModelName">The base model's name, to warn when the adapter was trained on another.</param>
    /// <param name="maxRank">Largest LoRA rank accepted (the slot buffers' rank).</param>
    /// <param name="computeDType">The dtype the server computes in: weights and deltas that would overflow it are refused.</param>
    public static Adapter Load(string name, string directory, LlamaConfig baseConfig, string? baseModelName, int maxRank, ScalarType computeDType = ScalarType.Float32)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new AdapterException(name, "path", $"directory '{directory}' does not exist");
        }

        var configPath = Path.Combine(directory, ConfigFile);
        var weightsPath = Path.Combine(directory, WeightsFile);
        AdapterFiles.Check(name, configPath, ConfigFile, AdapterFiles.MaxConfigBytes);
        AdapterFiles.Check(name, weightsPath, WeightsFile, AdapterFiles.MaxWeightsBytes);
        if (!File.Exists(configPath))
        {
            throw new AdapterException(name, ConfigFile, $"is missing from '{directory}'");
        }

        if (!File.Exists(weightsPath))
        {
            var pickle = File.Exists(Path.Combine(directory, PeftNames.PickleFile));
            throw new AdapterException(name, WeightsFile, pickle
                ? $"is missing; {PeftNames.PickleFile} (a pickle) is never loaded — convert it to safetensors"
                : $"is missing from '{directory}'");
        }

        var config = PeftConfig.Parse(name, configPath);
        var warnings = new List<string>();
        if (baseModelName is not null && config.BaseModelNameOrPath is { Length: > 0 } trainedOn
            && Path.GetFileName(Path.TrimEndingDirectorySeparator(trainedOn)) != baseModelName)
        {
            warnings.Add($"adapter '{name}' was trained on '{trainedOn}', serving it on '{baseModelName}' (shapes match)");
        }

        SafetensorsFile file;
        try
        {
            file = SafetensorsFile.ReadWhole(weightsPath, AdapterFiles.MaxWeightsBytes); // a copy: a file that shrinks under a mapping kills the process
        }
        catch (CheckpointException e)
        {
            throw new AdapterException(name, WeightsFile, e.Problem, e);
        }

        using (file)
        {
            var limits = new Limits(maxRank, computeDType);
            try
            {
                return PeftNames.KindOf(config.PeftType) switch
                {
                    AdapterKind.Lora => LoadLora(name, directory, config, file, baseConfig, limits, warnings),
                    AdapterKind.SoftPrompt => LoadSoftPrompt(name, directory, config, file, baseConfig, limits, warnings),
                    _ => throw new AdapterException(name, "peft_type", $"'{config.PeftType}' is not supported ({PeftNames.LoraType} or {PeftNames.PromptTuningType})"),
                };
            }
            catch (System.Text.RegularExpressions.RegexMatchTimeoutException e)
            {
                throw new AdapterException(name, "target_modules", $"the pattern '{e.Pattern}' took longer than {TargetModules.MatchTimeout.TotalMilliseconds} ms to match a module name", e);
            }
        }
    }

    /// <summary>What the server can hold: the slot rank, and the range of its compute dtype.</summary>
    private sealed record Limits(int MaxRank, ScalarType DType)
    {
        /// <summary>Largest finite value of the compute dtype.</summary>
        public double Max => DType switch
        {
            ScalarType.Float16 => 65504,
            ScalarType.BFloat16 => 3.38e38,
            _ => float.MaxValue,
        };

        /// <summary>Largest delta entry accepted: a thousandth of the range, so a delta times activations still fits.</summary>
        public double MaxDelta => Max / 1000;
    }

    private static LoraAdapter LoadLora(string name, string directory, PeftConfig config, SafetensorsFile file, LlamaConfig baseConfig, Limits limits, List<string> warnings)
    {
        if (config.R < 1)
        {
            throw new AdapterException(name, "r", "must be a positive integer");
        }

        if (config.TargetModuleList is null && config.TargetModuleRegex is null)
        {
            throw new AdapterException(name, "target_modules", "is missing");
        }

        if (config.FanInFanOut)
        {
            warnings.Add($"adapter '{name}': fan_in_fan_out is true but Llama's linear layers are not Conv1D; ignored as PEFT does");
        }

        var allSites = Enumerable.Range(0, baseConfig.NumHiddenLayers)
            .SelectMany(l => LinearSite.AllKinds.Select(k => new LinearSite(l, k))).ToArray();
        CheckTargetsExist(name, config, allSites);

        var pairs = new Dictionary<LinearSite, (string? A, string? B)>();
        foreach (var key in file.Tensors.Keys)
        {
            var (site, part) = ParseKey(name, key, baseConfig.NumHiddenLayers);
            var entry = pairs.GetValueOrDefault(site);
            pairs[site] = part == LoraPart.A ? entry with { A = key } : entry with { B = key };
        }

        if (pairs.Count == 0)
        {
            throw new AdapterException(name, WeightsFile, "holds no LoRA tensors");
        }

        var modules = new Dictionary<LinearSite, LoraModule>();
        try
        {
            foreach (var (site, (aKey, bKey)) in pairs.OrderBy(p => p.Key.Layer).ThenBy(p => p.Key.Kind))
            {
                if (aKey is null || bKey is null)
                {
                    throw new AdapterException(name, WeightsFile, $"{site.ModulePath} has {(aKey is null ? "lora_B without lora_A" : "lora_A without lora_B")}");
                }

                if (!TargetModules.Matches(config, site))
                {
                    throw new AdapterException(name, "target_modules", $"the file has weights for {site.ModulePath}, which target_modules/layers_to_transform do not select");
                }

                modules[site] = LoadModule(name, config, file, site, aKey, bKey, baseConfig, limits);
            }
        }
        catch
        {
            foreach (var m in modules.Values)
            {
                m.A.Dispose();
                m.B.Dispose();
            }

            throw;
        }

        return new LoraAdapter(name, directory, modules, warnings);
    }

    private static LoraModule LoadModule(string name, PeftConfig config, SafetensorsFile file, LinearSite site, string aKey, string bKey, LlamaConfig c, Limits limits)
    {
        var (inFeatures, outFeatures) = c.LinearShape(site.Kind);
        var path = site.ModulePath;
        var rank = TargetModules.PatternValue(config.RankPattern, path) ?? config.R;
        var alpha = TargetModules.PatternValue(config.AlphaPattern, path) ?? config.LoraAlpha;
        var aShape = file.Tensors[aKey].Shape;
        var bShape = file.Tensors[bKey].Shape;
        if (!aShape.SequenceEqual([rank, inFeatures]))
        {
            throw new AdapterException(name, aKey, $"shape [{string.Join(", ", aShape)}] but r={rank} and the base's {path} takes {inFeatures} inputs: expected [{rank}, {inFeatures}]");
        }

        if (!bShape.SequenceEqual([outFeatures, rank]))
        {
            throw new AdapterException(name, bKey, $"shape [{string.Join(", ", bShape)}] but the base's {path} has {outFeatures} outputs and r={rank}: expected [{outFeatures}, {rank}]");
        }

        if (rank > limits.MaxRank)
        {
            throw new AdapterException(name, "r", $"rank {rank} at {path} exceeds the configured maximum {limits.MaxRank} (Lora:MaxRank)");
        }

        var scale = PeftNames.Scale(alpha, rank, config.UseRslora);
        if (!double.IsFinite(alpha) || !double.IsFinite(scale) || Math.Abs(scale) > MaxScale)
        {
            throw new AdapterException(name, TargetModules.PatternValue(config.AlphaPattern, path) is null ? "lora_alpha" : "alpha_pattern",
                $"lora_alpha {alpha} with r={rank} gives the scale {scale:g3} at {path}; accepted: |scale| ≤ {MaxScale}");
        }

        var a = LoadFinite(name, file, aKey, limits);
        var b = LoadFinite(name, file, bKey, limits);
        var bound = LoraMath.DeltaBound(a, b, rank, scale);
        if (bound > limits.MaxDelta)
        {
            a.Dispose();
            b.Dispose();
            throw new AdapterException(name, aKey, $"with {bKey} and scale {scale:g3} the delta can reach {bound:g3}, which would overflow {limits.DType} arithmetic (limit {limits.MaxDelta:g3})");
        }

        return new LoraModule(a, b, rank, scale);
    }

    private static SoftPromptAdapter LoadSoftPrompt(string name, string directory, PeftConfig config, SafetensorsFile file, LlamaConfig c, Limits limits, List<string> warnings)
    {
        const string key = PeftNames.SoftPromptKey;
        if (!file.Tensors.TryGetValue(key, out var info))
        {
            throw new AdapterException(name, WeightsFile, $"has no '{key}' tensor (has: {string.Join(", ", file.Tensors.Keys.Take(5))})");
        }

        if (config.TokenDim != 0 && config.TokenDim != c.HiddenSize)
        {
            throw new AdapterException(name, "token_dim", $"{config.TokenDim} but the base model's hidden size is {c.HiddenSize}");
        }

        if (info.Shape.Length != 2 || info.Shape[1] != c.HiddenSize || info.Shape[0] < 1)
        {
            throw new AdapterException(name, key, $"shape {info.ShapeText}, expected [num_virtual_tokens, {c.HiddenSize}]");
        }

        if (config.NumVirtualTokens != 0 && config.NumVirtualTokens != info.Shape[0])
        {
            throw new AdapterException(name, "num_virtual_tokens", $"{config.NumVirtualTokens} but '{key}' has {info.Shape[0]} rows");
        }

        return new SoftPromptAdapter(name, directory, LoadFinite(name, file, key, limits), warnings);
    }

    /// <summary>Loads a float tensor that is finite and fits the compute dtype; integer or boolean tensors are refused, never converted.</summary>
    private static Tensor LoadFinite(string name, SafetensorsFile file, string key, Limits limits)
    {
        var dtype = file.Tensors[key].DType;
        if (dtype is not ("F32" or "F16" or "BF16" or "F64"))
        {
            throw new AdapterException(name, key, $"has dtype {dtype}; adapter weights must be floating point (F32, F16, BF16 or F64)");
        }

        Tensor t;
        try
        {
            t = file.Load(key, ScalarType.Float32, CPU);
        }
        catch (CheckpointException e)
        {
            throw new AdapterException(name, key, e.Problem, e);
        }

        if (!t.isfinite().all().item<bool>())
        {
            t.Dispose();
            throw new AdapterException(name, key, "contains NaN or infinite values");
        }

        var max = t.numel() == 0 ? 0 : t.abs().max().item<float>();
        if (max > limits.Max)
        {
            t.Dispose();
            throw new AdapterException(name, key, $"holds values up to {max:g3}, beyond what {limits.DType} can represent ({limits.Max:g3})");
        }

        return t;
    }

    private static (LinearSite Site, LoraPart Part) ParseKey(string name, string key, int layers)
    {
        if (!key.StartsWith(PeftNames.KeyPrefix, StringComparison.Ordinal))
        {
            throw new AdapterException(name, key, $"is not a PEFT LoRA key (expected '{PeftNames.LoraKey(new LinearSite(0, LinearKind.QProj), LoraPart.A)}')");
        }

        var (module, partName) = PeftNames.SplitLoraKey(key)
            ?? throw new AdapterException(name, key, "is not a LoRA tensor (expected '<module>.lora_A.weight' or '<module>.lora_B.weight')");
        var part = PeftNames.PartOf(partName)
            ?? throw new AdapterException(name, key, $"{partName} is not supported (embedding LoRA and DoRA are refused)");
        var site = TargetModules.ParseModulePath(module, layers)
            ?? throw new AdapterException(name, key, $"targets module '{module}', which the base model does not have");
        return (site, part);
    }

    private static void CheckTargetsExist(string name, PeftConfig config, IReadOnlyList<LinearSite> sites)
    {
        if (config.TargetModuleList is { } list)
        {
            foreach (var target in list.Where(t => t != "all-linear"))
            {
                var probe = new PeftConfig { PeftType = PeftNames.LoraType, TargetModuleList = [target] };
                if (!sites.Any(s => TargetModules.Matches(probe, s)))
                {
                    throw new AdapterException(name, "target_modules", $"'{target}' names no module of the base model (it has {string.Join(", ", LinearSite.AllKinds.Select(LinearSite.ShortName))})");
                }
            }
        }
        else if (config.TargetModuleRegex is { } regex && !sites.Any(s => TargetModules.Matches(config with { LayersToTransform = null }, s)))
        {
            throw new AdapterException(name, "target_modules", $"regex '{regex}' matches no module of the base model");
        }
    }
}
