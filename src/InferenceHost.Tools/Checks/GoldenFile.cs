using System.Text.Json;

namespace InferenceHost.Tools.Checks;

/// <summary>
/// <c>goldens.json</c> of the conformance fixtures (see <c>shared/fixtures/README.md</c>): per fixture, the prompts
/// with their token ids and, per prompt and adapter (null = base), the greedy tokens and the first step's top-5 logits.
/// </summary>
public sealed record GoldenFile(IReadOnlyList<GoldenModel> Fixtures)
{
    /// <summary>Logit tolerance of the golden check (the fixtures' README: float32 in any order agrees to about 1e-3).</summary>
    public const double LogitTolerance = 1e-3;

    public static GoldenFile Load(string fixturesDir)
    {
        var path = Path.Combine(fixturesDir, "goldens.json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} not found (the --fixtures folder must hold goldens.json)", path);
        }

        return JsonSerializer.Deserialize<GoldenFile>(File.ReadAllText(path), new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })
            ?? throw new InvalidDataException($"{path} is empty");
    }
}

public sealed record GoldenModel(string Model, int GreedyTokens, IReadOnlyList<GoldenPromptText> Prompts, IReadOnlyList<GoldenExpectation> Cases);

public sealed record GoldenPromptText(string Text, IReadOnlyList<int> Ids);

public sealed record GoldenExpectation(string? Adapter, int Prompt, IReadOnlyList<int> Greedy, IReadOnlyList<IReadOnlyList<double>> Top5)
{
    public string Label => $"{Adapter ?? "base"}/prompt{Prompt}";

    /// <summary>Largest |logit difference| over the golden top-5, or +inf when an id differs.</summary>
    public double Top5Error(IReadOnlyList<(int Id, float Logit)> top)
    {
        var worst = 0.0;
        for (var i = 0; i < Top5.Count; i++)
        {
            if (i >= top.Count || top[i].Id != (int)Top5[i][0])
            {
                return double.PositiveInfinity;
            }

            worst = Math.Max(worst, Math.Abs(top[i].Logit - Top5[i][1]));
        }

        return worst;
    }
}

/// <summary>One case's outcome: tokens equal to the golden, the top-5 logit error, and a reason when it failed.</summary>
public sealed record CaseOutcome(string Case, bool TokensMatch, double? Top5Error, string? Error)
{
    public bool Passed(double tolerance) => Error is null && TokensMatch && (Top5Error is not { } e || e <= tolerance);
}
