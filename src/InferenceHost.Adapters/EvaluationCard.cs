using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Adapters;

/// <summary>
/// An adapter's evaluation card: the trainer's <c>eval_results.json</c> beside the adapter files (task,
/// metric, the adapter's score and the base's on the same data). Property names are the file's, so the
/// API serves the card as the file says it.
/// </summary>
public sealed record EvaluationCard
{
    [JsonPropertyName("task")]
    public required string Task { get; init; }

    [JsonPropertyName("template")]
    public string? Template { get; init; }

    [JsonPropertyName("data")]
    public string? Data { get; init; }

    [JsonPropertyName("metric")]
    public required string Metric { get; init; }

    [JsonPropertyName("score")]
    public required double Score { get; init; }

    [JsonPropertyName("base_score")]
    public double? BaseScore { get; init; }

    [JsonPropertyName("scores")]
    public IReadOnlyDictionary<string, double>? Scores { get; init; }

    [JsonPropertyName("base_scores")]
    public IReadOnlyDictionary<string, double>? BaseScores { get; init; }

    [JsonPropertyName("examples")]
    public int? Examples { get; init; }

    [JsonPropertyName("date")]
    public DateTimeOffset? Date { get; init; }

    [JsonPropertyName("base_model")]
    public string? BaseModel { get; init; }
}

/// <summary>
/// Reads <c>eval_results.json</c> strictly (bounded size, strict JSON without repeated keys, every field of
/// the right type and range, no unknown field). A bad card never stops its adapter: the problem is
/// returned as text for the listing's <c>evaluation_error</c>.
/// </summary>
public static class EvaluationCardReader
{
    public const string FileName = "eval_results.json";

    public const long MaxBytes = 64 * 1024;

    private const int MaxText = 1000;

    private static readonly string[] Known = ["task", "template", "data", "metric", "score", "base_score", "scores", "base_scores", "examples", "date", "base_model"];

    /// <summary>The card in <paramref name="directory"/>: (null, null) when there is none, else the card or the reason it cannot be read.</summary>
    public static (EvaluationCard? Card, string? Error) TryRead(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return (null, null);
        }

        try
        {
            using var doc = StrictJson.ParseFile(path, FileName, MaxBytes);
            return (Parse(doc.RootElement), null);
        }
        catch (CheckpointException e)
        {
            return (null, e.Problem);
        }
        catch (FormatException e)
        {
            return (null, $"{FileName}: {e.Message}");
        }
    }

    /// <summary>Throws <see cref="FormatException"/> naming the field at fault.</summary>
    public static EvaluationCard Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("is not a JSON object");
        }

        foreach (var p in root.EnumerateObject())
        {
            if (!Known.Contains(p.Name, StringComparer.Ordinal))
            {
                throw new FormatException($"unknown field '{p.Name}' (known: {string.Join(", ", Known)})");
            }
        }

        var metric = Text(root, "metric") ?? throw Missing("metric");
        return new EvaluationCard
        {
            Task = Text(root, "task") ?? throw Missing("task"),
            Template = Text(root, "template"),
            Data = Text(root, "data"),
            Metric = metric,
            Score = Score(root, "score", metric) ?? throw Missing("score"),
            BaseScore = Score(root, "base_score", metric),
            Scores = ScoreMap(root, "scores"),
            BaseScores = ScoreMap(root, "base_scores"),
            Examples = Examples(root),
            Date = Date(root),
            BaseModel = Text(root, "base_model"),
        };
    }

    /// <summary>BLEU is on sacreBLEU's 0..100 scale; ROUGE and every other metric are fractions.</summary>
    public static double MaxOf(string metric) => metric.Equals("bleu", StringComparison.OrdinalIgnoreCase) ? 100 : 1;

    private static FormatException Missing(string field) => new($"'{field}' is missing (task, metric and score are required)");

    private static JsonElement? Get(JsonElement root, string field) =>
        root.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static string? Text(JsonElement root, string field)
    {
        if (Get(root, field) is not { } v)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String || v.GetString() is not { Length: > 0 and <= MaxText } s)
        {
            throw new FormatException($"'{field}' must be a non-empty string of at most {MaxText} characters");
        }

        return s;
    }

    private static double? Score(JsonElement root, string field, string metric) =>
        Get(root, field) is { } v ? Number(v, field, metric) : null;

    private static double Number(JsonElement v, string field, string metric)
    {
        var max = MaxOf(metric);
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var x) || !double.IsFinite(x))
        {
            throw new FormatException($"'{field}' must be a number");
        }

        return x >= 0 && x <= max
            ? x
            : throw new FormatException($"'{field}' is {x.ToString(CultureInfo.InvariantCulture)}, outside 0..{max} for {metric}");
    }

    private static Dictionary<string, double>? ScoreMap(JsonElement root, string field)
    {
        if (Get(root, field) is not { } v)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"'{field}' must be an object of metric name to number");
        }

        var map = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
        {
            if (p.Name.Length is 0 or > 100 || map.Count >= 64)
            {
                throw new FormatException($"'{field}' must have at most 64 metric names of 1 to 100 characters");
            }

            map[p.Name] = Number(p.Value, $"{field}.{p.Name}", p.Name);
        }

        return map;
    }

    private static int? Examples(JsonElement root)
    {
        if (Get(root, "examples") is not { } v)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n > 0
            ? n
            : throw new FormatException("'examples' must be a positive whole number");
    }

    private static DateTimeOffset? Date(JsonElement root)
    {
        if (Text(root, "date") is not { } s)
        {
            return null;
        }

        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d)
            ? d
            : throw new FormatException($"'date' is '{s}', not an ISO 8601 date");
    }
}
