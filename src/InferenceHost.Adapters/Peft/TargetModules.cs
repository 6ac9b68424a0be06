using System.Text.RegularExpressions;
using InferenceHost.Model.Llama;

namespace InferenceHost.Adapters.Peft;

/// <summary>PEFT's rules for which modules a LoRA config targets, and module paths ↔ linear sites.</summary>
public static partial class TargetModules
{
    /// <summary>Patterns come from adapter files: a pathological one gives up instead of hanging a load.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>Null when <paramref name="pattern"/> is a valid .NET regex (PEFT's are Python's; the common subset agrees), else why not.</summary>
    public static string? RegexError(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, MatchTimeout);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// PEFT's check_target_module_exists: a regex string must match the whole module path; a list entry
    /// matches the exact path or a <c>.name</c> suffix; "all-linear" is every linear but the output head;
    /// then layers_to_transform, when given, keeps only those layer indices.
    /// </summary>
    public static bool Matches(PeftConfig config, LinearSite site)
    {
        var path = site.ModulePath;
        bool matched;
        if (config.TargetModuleRegex is { } regex)
        {
            matched = regex == "all-linear" || Regex.IsMatch(path, $"^(?:{regex})$", RegexOptions.None, MatchTimeout);
        }
        else if (config.TargetModuleList is { } list)
        {
            matched = list.Any(t => t == "all-linear" || path == t || path.EndsWith("." + t, StringComparison.Ordinal));
        }
        else
        {
            matched = false;
        }

        return matched && (config.LayersToTransform is null || config.LayersToTransform.Contains(site.Layer));
    }

    /// <summary>Parses <c>model.layers.{i}.self_attn.q_proj</c> (etc.) into a site; null if it names no linear of a Llama layer.</summary>
    public static LinearSite? ParseModulePath(string path, int layers)
    {
        var m = ModulePathPattern().Match(path);
        if (!m.Success || !int.TryParse(m.Groups[1].Value, out var layer) || layer >= layers)
        {
            return null;
        }

        var kind = LinearSite.ParseShortName(m.Groups[3].Value);
        if (kind is null)
        {
            return null;
        }

        var site = new LinearSite(layer, kind.Value);
        return site.ModulePath == path ? site : null; // the parent (self_attn / mlp) must be the right one
    }

    /// <summary>PEFT's pattern lookup for rank_pattern / alpha_pattern: <c>(.*\.)?(key)$</c> on the module path.</summary>
    public static T? PatternValue<T>(IReadOnlyDictionary<string, T> patterns, string path)
        where T : struct
    {
        foreach (var (key, value) in patterns)
        {
            if (Regex.IsMatch(path, $"^(?:.*\\.)?(?:{key})$", RegexOptions.None, MatchTimeout))
            {
                return value;
            }
        }

        return null;
    }

    [GeneratedRegex(@"^model\.layers\.(\d+)\.(self_attn|mlp)\.([a-z_]+)$")]
    private static partial Regex ModulePathPattern();
}
