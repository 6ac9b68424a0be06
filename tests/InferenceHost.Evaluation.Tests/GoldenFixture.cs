using System.Text.Json;

namespace InferenceHost.Evaluation.Tests;

/// <summary>
/// Loads <c>shared/fixtures/metric-goldens.json</c> (schema in <c>metric-goldens.md</c> beside it): walks up
/// from the test assembly's directory until a folder holding <c>shared/fixtures/metric-goldens.json</c> is
/// found (the repository root's parent, e.g. /work for the /work/wt-metrics worktree).
/// </summary>
internal static class GoldenFixture
{
    public const string FileName = "metric-goldens.json";
    public const string Handmade = "handmade";
    public const string DialogSum = "dialogsum_validation_lead2";
    public static readonly string[] Sets = [Handmade, DialogSum];
    public static readonly string[] Variants = ["no_stem", "stem"];

    private static readonly Lazy<JsonDocument> Document = new(Load);

    public static JsonElement Root => Document.Value.RootElement;

    public static string Locate()
    {
        var start = AppContext.BaseDirectory;
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "fixtures", FileName);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException(
            $"Could not find shared/fixtures/{FileName} in any folder above the test assembly directory '{start}'. " +
            "The goldens live in the 'shared' folder beside the repository root (e.g. /work/shared next to /work/wt-metrics).");
    }

    private static JsonDocument Load() => JsonDocument.Parse(File.ReadAllText(Locate()));

    public static JsonElement Set(string set) => Root.GetProperty("sets").GetProperty(set);

    public static IEnumerable<JsonElement> Cases(string set) => Set(set).GetProperty("cases").EnumerateArray();

    public static JsonElement Case(string set, string id) =>
        Cases(set).Single(c => c.GetProperty("id").GetString() == id);

    public static string Prediction(JsonElement c) => c.GetProperty("prediction").GetString()!;

    public static List<string> References(JsonElement c) =>
        c.GetProperty("references").EnumerateArray().Select(r => r.GetString()!).ToList();

    public static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();

    public static List<int> Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToList();

    public static List<double> Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToList();
}
