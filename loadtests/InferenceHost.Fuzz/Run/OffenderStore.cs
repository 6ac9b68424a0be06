using System.Text.Json;
using InferenceHost.Fuzz.Cases;
using InferenceHost.Fuzz.Send;

namespace InferenceHost.Fuzz.Run;

/// <summary>
/// Saves each offending case as <c>NNNNN-family.json</c> (the case and what the server did; <c>replay</c> sends it
/// again) beside its body as raw bytes (<c>.body</c> for curl's <c>--data-binary @file</c>, <c>.raw</c> for <c>nc</c>).
/// </summary>
public sealed class OffenderStore(string directory)
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private int _next;

    public string Directory { get; } = directory;

    public int Count => _next;

    public string Save(FuzzCase c, Outcome o)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var stem = Path.Combine(Directory, $"{Interlocked.Increment(ref _next):D5}-{c.Family}");
        File.WriteAllText(stem + ".json", JsonSerializer.Serialize(new SavedCase(c, o), Json));
        File.WriteAllBytes(stem + (c.Raw is null ? ".body" : ".raw"), c.Raw ?? c.Body);
        return stem + ".json";
    }

    public static SavedCase Load(string path) =>
        JsonSerializer.Deserialize<SavedCase>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} holds no case");
}

/// <summary>A saved offending case.</summary>
public sealed record SavedCase(FuzzCase Case, Outcome Outcome);
