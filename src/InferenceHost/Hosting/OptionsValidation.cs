using InferenceHost.Model.Quantization;
using Microsoft.Extensions.Options;

namespace InferenceHost.Hosting;

/// <summary>Cross-field and enum-like rules the attributes cannot say; each message names its config key.</summary>
internal sealed class ModelOptionsValidator : IValidateOptions<ModelOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions o)
    {
        var errors = new List<string>();
        if (!HostParsing.TryDType(o.DType, out _))
        {
            errors.Add($"Model:DType: '{o.DType}' is not one of float32, bfloat16, float16");
        }

        if (o.Device is not ("cpu" or "cuda") && !o.Device.StartsWith("cuda:", StringComparison.Ordinal))
        {
            errors.Add($"Model:Device: '{o.Device}' is not cpu or cuda");
        }
        else if (o.Device.StartsWith("cuda", StringComparison.Ordinal) && !TorchSharp.torch.cuda.is_available())
        {
            errors.Add($"Model:Device: '{o.Device}' requested but CUDA is not available (torch.cuda.is_available() is false); use cpu");
        }

        if (!InferenceHost.Model.Quantization.WeightQuantizationNames.TryParse(o.Quantization, out _))
        {
            errors.Add($"Model:Quantization: '{o.Quantization}' is not one of {InferenceHost.Model.Quantization.WeightQuantizationNames.Allowed}");
        }

        if (o.Path.Length > 0 && !Directory.Exists(o.Path))
        {
            errors.Add($"Model:Path: directory '{Path.GetFullPath(o.Path)}' does not exist");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class LoraOptionsValidator(IOptions<ModelOptions> model) : IValidateOptions<LoraOptions>
{
    public ValidateOptionsResult Validate(string? name, LoraOptions o)
    {
        var errors = new List<string>();
        if (!HostParsing.TryLoraMode(o.Mode, out var mode))
        {
            errors.Add($"Lora:Mode: '{o.Mode}' is not one of unmerged, merged, auto");
        }
        else if (mode == InferenceHost.Engine.LoraMode.Merged
            && InferenceHost.Model.Quantization.WeightQuantizationNames.TryParse(model.Value.Quantization, out var q)
            && q.MergeRefusal() is { } refusal)
        {
            errors.Add($"Lora:Mode: {refusal}");
        }

        foreach (var t in o.TargetModules.Where(t => InferenceHost.Model.Llama.LinearSite.ParseShortName(t) is null))
        {
            errors.Add($"Lora:TargetModules: '{t}' is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
        }

        var a = o.Auto;
        if (a.Window < 2 || a.MinSamples < 1 || a.MinSamples > a.Window)
        {
            errors.Add($"Lora:Auto: Window ({a.Window}) must be at least 2 and MinSamples ({a.MinSamples}) between 1 and Window");
        }

        if (a.EnterMergedShare is <= 0 or > 1 || a.ExitMergedShare is < 0 or > 1 || a.ExitMergedShare >= a.EnterMergedShare)
        {
            errors.Add($"Lora:Auto: need 0 <= ExitMergedShare ({a.ExitMergedShare}) < EnterMergedShare ({a.EnterMergedShare}) <= 1, so the mode cannot flap");
        }

        if (a.MinDwellSeconds < 0)
        {
            errors.Add("Lora:Auto:MinDwellSeconds must not be negative");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>The template must resolve and compile at start-up (for auto: the configured checkpoint's own), so a bad one names its line and column then.</summary>
internal sealed class ChatOptionsValidator(IOptions<ModelOptions> model) : IValidateOptions<ChatOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatOptions o)
    {
        var dir = model.Value.Path;
        try
        {
            ChatTemplateSetting.Resolve(o.ChatTemplate, dir.Length > 0 && Directory.Exists(dir) ? dir : null).Compile();
            return ValidateOptionsResult.Success;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            return ValidateOptionsResult.Fail($"ChatTemplate: {e.Message}");
        }
    }
}

internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions o) =>
        o.ApiKeys.Concat(o.AdminKeys).Any(string.IsNullOrWhiteSpace)
            ? ValidateOptionsResult.Fail("Auth:ApiKeys / Auth:AdminKeys: keys must not be empty")
            : ValidateOptionsResult.Success;
}

internal static class HostParsing
{
    public static bool TryDType(string s, out TorchSharp.torch.ScalarType dtype)
    {
        (var ok, dtype) = s.ToLowerInvariant() switch
        {
            "float32" => (true, TorchSharp.torch.ScalarType.Float32),
            "bfloat16" => (true, TorchSharp.torch.ScalarType.BFloat16),
            "float16" => (true, TorchSharp.torch.ScalarType.Float16),
            _ => (false, TorchSharp.torch.ScalarType.Float32),
        };
        return ok;
    }

    public static bool TryLoraMode(string s, out InferenceHost.Engine.LoraMode mode) =>
        Enum.TryParse(s, ignoreCase: true, out mode) && Enum.IsDefined(mode) && !int.TryParse(s, out _);
}
