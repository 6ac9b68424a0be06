using System.Text.Json;

namespace InferenceHost.Tests.Shared;

/// <summary>
/// Locates the conformance fixtures: <c>$INFERENCEHOST_FIXTURES</c> when set (so the same tests run on
/// fixtures that are not in shared/), else <c>shared/fixtures</c> beside the repository.
/// </summary>
public static class TestFixtures
{
    private static readonly Lazy<string> RootPath = new(FindRoot);
    private static readonly Lazy<Goldens> GoldensValue = new(() =>
        JsonSerializer.Deserialize<Goldens>(File.ReadAllText(Path.Combine(Root, "goldens.json")), new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })
        ?? throw new InvalidOperationException("goldens.json is empty"));

    public static string Root => RootPath.Value;

    public static Goldens Goldens => GoldensValue.Value;

    public static string ModelDir(string model) => Path.Combine(Root, model);

    public static string AdapterDir(string model, string adapter) => Path.Combine(Root, model, "adapters", adapter);

    /// <summary>The repository root (the folder holding InferenceHost.sln).</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "InferenceHost.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException($"no InferenceHost.sln above {AppContext.BaseDirectory}");
        }
    }

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("INFERENCEHOST_FIXTURES") is { Length: > 0 } env)
        {
            return Directory.Exists(env) ? env : throw new InvalidOperationException($"INFERENCEHOST_FIXTURES={env} does not exist");
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "fixtures");
            if (File.Exists(Path.Combine(candidate, "goldens.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"shared/fixtures/goldens.json not found above {AppContext.BaseDirectory}; set INFERENCEHOST_FIXTURES");
    }
}

public sealed record Goldens(IReadOnlyList<GoldenFixture> Fixtures);

public sealed record GoldenFixture(string Model, int GreedyTokens, IReadOnlyList<GoldenPrompt> Prompts, IReadOnlyList<GoldenCase> Cases);

public sealed record GoldenPrompt(string Text, IReadOnlyList<int> Ids);

public sealed record GoldenCase(string? Adapter, int Prompt, IReadOnlyList<int> Greedy, IReadOnlyList<IReadOnlyList<double>> Top5, double Top1Gap)
{
    public override string ToString() => $"{Adapter ?? "base"} / prompt {Prompt}";
}
