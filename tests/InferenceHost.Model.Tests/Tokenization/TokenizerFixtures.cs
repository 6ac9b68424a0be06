using System.Text.Json;

namespace InferenceHost.Model.Tests.Tokenization;

/// <summary>Locates /work/shared/fixtures and reads goldens.json's prompts.</summary>
public static class TokenizerFixtures
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string FixturesDir => Root.Value;

    public static string ModelDir(string model) => Path.Combine(FixturesDir, model);

    /// <summary>Walks up from the test assembly to a folder whose parent holds shared/fixtures.</summary>
    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (dir.Parent is null) break;
            var candidate = Path.Combine(dir.Parent.FullName, "shared", "fixtures");
            if (File.Exists(Path.Combine(candidate, "goldens.json"))) return candidate;
        }
        throw new InvalidOperationException(
            $"shared/fixtures not found: no folder above {AppContext.BaseDirectory} has a parent containing shared/fixtures/goldens.json");
    }

    public sealed record Prompt(string Model, int Index, string Text, int[] Ids);

    private static readonly Lazy<IReadOnlyList<Prompt>> AllPrompts = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FixturesDir, "goldens.json")));
        var list = new List<Prompt>();
        foreach (var f in doc.RootElement.GetProperty("fixtures").EnumerateArray())
        {
            var model = f.GetProperty("model").GetString()!;
            int i = 0;
            foreach (var p in f.GetProperty("prompts").EnumerateArray())
                list.Add(new Prompt(model, i++, p.GetProperty("text").GetString()!,
                    p.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray()));
        }
        return list;
    });

    public static IReadOnlyList<Prompt> Prompts => AllPrompts.Value;

    /// <summary>(model, prompt index) pairs for [MemberData].</summary>
    public static TheoryData<string, int> PromptCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var p in Prompts) data.Add(p.Model, p.Index);
        return data;
    }

    public static Prompt Get(string model, int index) => Prompts.Single(p => p.Model == model && p.Index == index);
}

/// <summary>A temporary directory deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tok-tests-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
