using System.Text.Json;
using System.Text.Json.Serialization;
using InferenceHost.LoadTests.Metrics;

namespace InferenceHost.LoadTests.Report;

/// <summary>The JSON results file: the summaries, and optionally every attempt.</summary>
public static class JsonReport
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public sealed record Document(string Tool, DateTimeOffset WrittenAt, IReadOnlyList<RunSummary> Runs,
        IReadOnlyList<RequestResult>? Requests);

    public static string Write(string path, IReadOnlyList<RunSummary> runs, IReadOnlyList<RequestResult>? requests)
    {
        var doc = new Document("InferenceHost.LoadTests", DateTimeOffset.UtcNow, runs, requests);
        File.WriteAllText(path, JsonSerializer.Serialize(doc, Options));
        return path;
    }

    public static Document Read(string path)
        => JsonSerializer.Deserialize<Document>(File.ReadAllText(path), Options)
           ?? throw new InvalidDataException($"{path} holds no results.");
}
