using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace InferenceHost.Gateway.Tests.Deploy;

/// <summary>The YAML documents under <c>deploy/k8s</c>, parsed, with the Job template's variables filled in.</summary>
public sealed record Manifest(string File, YamlMappingNode Doc)
{
    public string Kind => Doc.Str("kind") ?? "";

    public string Name => Doc.At("metadata", "name")?.ToString() ?? "";
}

public static partial class Manifests
{
    /// <summary>The Job template's variables and the values the test fills in (envsubst does it for real).</summary>
    public static readonly IReadOnlyDictionary<string, string> TemplateValues = new Dictionary<string, string>
    {
        ["ADAPTER"] = "support-fr",
        ["TEMPLATE"] = "dialogue-summary",
    };

    public static string Dir => Path.Combine(InferenceHost.Tests.Shared.TestFixtures.RepoRoot, "deploy", "k8s");

    /// <summary>Every .yaml file's text, by path relative to deploy/k8s.</summary>
    public static Dictionary<string, string> Texts() =>
        Directory.EnumerateFiles(Dir, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetRelativePath(Dir, f), File.ReadAllText);

    /// <summary>Parses the texts; a <c>${NAME}</c> that is not a template variable is an error.</summary>
    public static List<Manifest> Parse(IReadOnlyDictionary<string, string> texts)
    {
        var all = new List<Manifest>();
        foreach (var (file, text) in texts)
        {
            var filled = Variable().Replace(text, m => TemplateValues.TryGetValue(m.Groups[1].Value, out var v)
                ? v : throw new InvalidDataException($"{file}: unknown template variable ${{{m.Groups[1].Value}}}"));
            var stream = new YamlStream();
            stream.Load(new StringReader(filled));
            all.AddRange(stream.Documents.Select(d => new Manifest(file, (YamlMappingNode)d.RootNode)));
        }

        return all;
    }

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Variable();

    // ---- navigation

    public static YamlNode? At(this YamlNode? node, params object[] path)
    {
        foreach (var step in path)
        {
            node = (node, step) switch
            {
                (YamlMappingNode m, string key) => m.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null,
                (YamlSequenceNode s, int i) => i < s.Children.Count ? s.Children[i] : null,
                _ => null,
            };
        }

        return node;
    }

    public static string? Str(this YamlNode? node, params object[] path) => node.At(path) is YamlScalarNode s ? s.Value : null;

    public static IEnumerable<YamlMappingNode> Items(this YamlNode? node, params object[] path) =>
        node.At(path) is YamlSequenceNode s ? s.Children.OfType<YamlMappingNode>() : [];

    public static Dictionary<string, string> Labels(this YamlNode? node, params object[] path) =>
        node.At(path) is YamlMappingNode m ? m.Children.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString()) : [];

    /// <summary>The pod spec of a Deployment or Job.</summary>
    public static YamlNode? PodSpec(this Manifest m) => m.Doc.At("spec", "template", "spec");

    public static IEnumerable<YamlMappingNode> Containers(this Manifest m) =>
        m.PodSpec().Items("containers").Concat(m.PodSpec().Items("initContainers"));

    public static Dictionary<string, string?> Env(this YamlNode container) =>
        container.Items("env").ToDictionary(e => e.Str("name")!, e => e.Str("value"));
}

/// <summary>
/// Configuration keys as the code binds them: <c>A__B__C</c> (environment form) is valid when <c>A</c> is an options
/// class's <c>Section</c> and <c>B</c>, <c>C</c> are its properties (list indices where a property is a list), or
/// when the path exists in the application's own settings file (<c>Urls</c>, <c>Logging</c>, <c>OpenTelemetry</c>, ...).
/// </summary>
public sealed class ConfigKeys(Assembly assembly, string settingsFile)
{
    private readonly Dictionary<string, Type> sections = assembly.GetTypes()
        .Select(t => (Type: t, Field: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
        .Where(x => x.Field is { IsLiteral: true } && x.Field.FieldType == typeof(string))
        .ToDictionary(x => (string)x.Field!.GetRawConstantValue()!, x => x.Type, StringComparer.OrdinalIgnoreCase);

    private readonly JsonElement settings = JsonDocument.Parse(File.ReadAllText(settingsFile)).RootElement;

    public bool IsKnown(string envName)
    {
        var parts = envName.Split("__");
        return (sections.TryGetValue(parts[0], out var type) && Resolves(type, parts.AsSpan(1))) || InSettings(settings, parts);
    }

    private static bool Resolves(Type type, ReadOnlySpan<string> rest)
    {
        if (rest.IsEmpty)
        {
            return true;
        }

        var property = type.GetProperty(rest[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null)
        {
            return false;
        }

        var t = property.PropertyType;
        rest = rest[1..];
        if (t != typeof(string) && typeof(IEnumerable).IsAssignableFrom(t))
        {
            // A list: the next part is an index, then the element.
            if (rest.IsEmpty || !int.TryParse(rest[0], out _))
            {
                return false;
            }

            t = t.IsArray ? t.GetElementType()! : t.GetGenericArguments()[0];
            rest = rest[1..];
        }

        return IsLeaf(t) ? rest.IsEmpty : Resolves(t, rest);
    }

    private static bool IsLeaf(Type t) =>
        t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || Nullable.GetUnderlyingType(t) is not null;

    private static bool InSettings(JsonElement node, ReadOnlySpan<string> parts)
    {
        foreach (var part in parts)
        {
            if (node.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            var match = node.EnumerateObject().Where(p => string.Equals(p.Name, part, StringComparison.OrdinalIgnoreCase)).ToArray();
            if (match.Length == 0)
            {
                return false;
            }

            node = match[0].Value;
        }

        return node.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array); // a value, not a whole section or list
    }
}
