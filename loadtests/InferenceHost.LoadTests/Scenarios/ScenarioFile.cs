using System.Globalization;
using System.Text.Json;
using InferenceHost.LoadTests.Cli;

namespace InferenceHost.LoadTests.Scenarios;

/// <summary>
/// A scenario file: <c>{"name", "defaults": {options}, "prepare": [command lines], "runs": [{options, "matrix": {option: [values]}}]}</c>.
/// Option names are the command line's without the dashes. A run with a matrix expands to the cartesian product
/// of its values (first key outermost), named "{name}-{value}-...". Precedence: defaults &lt; run &lt; command line.
/// </summary>
public sealed record ScenarioFile(string Name, IReadOnlyList<string> Prepare, IReadOnlyList<OptionBag> Runs)
{
    public static ScenarioFile Load(string path)
    {
        if (!File.Exists(path))
            throw new OptionException($"--file '{path}' does not exist.");
        try
        {
            return Parse(File.ReadAllText(path), Path.GetFileNameWithoutExtension(path));
        }
        catch (JsonException e)
        {
            throw new OptionException($"Scenario file '{path}' is not valid JSON: {e.Message}");
        }
    }

    public static ScenarioFile Parse(string json, string fallbackName)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        JsonElement root = doc.RootElement;
        string name = root.TryGetProperty("name", out JsonElement n) ? n.GetString() ?? fallbackName : fallbackName;
        OptionBag defaults = root.TryGetProperty("defaults", out JsonElement d) ? ToBag(d, "defaults") : new OptionBag();
        var prepare = root.TryGetProperty("prepare", out JsonElement p)
            ? p.EnumerateArray().Select(x => x.GetString() ?? "").Where(x => x.Length > 0).ToList()
            : [];
        if (!root.TryGetProperty("runs", out JsonElement runs) || runs.ValueKind != JsonValueKind.Array || runs.GetArrayLength() == 0)
            throw new OptionException("A scenario file needs a non-empty \"runs\" array.");
        var expanded = new List<OptionBag>();
        int i = 0;
        foreach (JsonElement run in runs.EnumerateArray())
        {
            i++;
            OptionBag bag = defaults.With(ToBag(run, $"runs[{i - 1}]", skip: "matrix"));
            string baseName = bag.Values.TryGetValue("name", out string? nm) ? nm : $"run{i}";
            if (run.TryGetProperty("matrix", out JsonElement matrix))
                expanded.AddRange(Expand(bag, baseName, matrix));
            else
                expanded.Add(bag.With(new OptionBag([new("name", baseName)])));
        }
        var duplicate = expanded.GroupBy(b => b.Values["name"]).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new OptionException($"Two runs are both named '{duplicate.Key}'; give them distinct names.");
        return new ScenarioFile(name, prepare, expanded);
    }

    private static IEnumerable<OptionBag> Expand(OptionBag bag, string baseName, JsonElement matrix)
    {
        IEnumerable<(OptionBag Bag, string Name)> acc = [(bag, baseName)];
        foreach (JsonProperty axis in matrix.EnumerateObject())
        {
            if (axis.Value.ValueKind != JsonValueKind.Array || axis.Value.GetArrayLength() == 0)
                throw new OptionException($"matrix \"{axis.Name}\" must be a non-empty array.");
            var values = axis.Value.EnumerateArray().Select(v => Scalar(v, axis.Name)).ToList();
            string key = axis.Name;
            acc = acc.SelectMany(x => values.Select(v =>
                (x.Bag.With(new OptionBag([new(key, v)])), $"{x.Name}-{(key == "adapters" ? "n" : "")}{v}"))).ToList();
        }
        return acc.Select(x => x.Bag.With(new OptionBag([new("name", x.Name)])));
    }

    private static OptionBag ToBag(JsonElement obj, string where, string? skip = null)
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw new OptionException($"{where} must be a JSON object of options.");
        var values = new List<KeyValuePair<string, string>>();
        foreach (JsonProperty prop in obj.EnumerateObject())
        {
            if (prop.Name == skip)
                continue;
            string value = prop.Value.ValueKind == JsonValueKind.Array
                ? string.Join(prop.Name == "prepare-cmd" ? ";;" : ",", prop.Value.EnumerateArray().Select(v => Scalar(v, prop.Name)))
                : Scalar(prop.Value, prop.Name);
            values.Add(new(prop.Name, value));
        }
        return new OptionBag(values);
    }

    private static string Scalar(JsonElement v, string name) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString()!,
        JsonValueKind.Number => v.GetDouble().ToString(CultureInfo.InvariantCulture),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new OptionException($"Option \"{name}\" must be a string, number or boolean (or a list of them)."),
    };
}
