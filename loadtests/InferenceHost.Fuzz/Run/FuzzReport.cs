using System.Text;
using System.Text.Json;
using InferenceHost.Fuzz.Adapters;

namespace InferenceHost.Fuzz.Run;

/// <summary>A target of the run: met or not, and the figure behind it.</summary>
public sealed record Check(string Name, bool Met, string Detail);

/// <summary>Everything a fuzz run measured; written as report.json and report.md.</summary>
public sealed record FuzzReport
{
    public required int Seed { get; init; }

    public required string Target { get; init; }

    public required double Seconds { get; init; }

    public required int Requests { get; init; }

    public required IReadOnlyDictionary<string, int> ByStatus { get; init; }

    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> ByFamily { get; init; }

    public required int ServerErrors { get; init; }

    public required int Resets { get; init; }

    public required int Hangs { get; init; }

    public required int BadBodies { get; init; }

    public required int Unshaped4xx { get; init; }

    public required IReadOnlyList<string> Offences { get; init; }

    public required IReadOnlyList<AdapterResult> Adapters { get; init; }

    public required int Probes { get; init; }

    public required IReadOnlyList<string> ProbeDifferences { get; init; }

    public bool? ServerAlive { get; init; }

    public double? RssStartMiB { get; init; }

    public double? RssPeakMiB { get; init; }

    public double? RssEndMiB { get; init; }

    public required IReadOnlyList<Check> Checks { get; init; }

    public bool Passed => Checks.All(c => c.Met);

    public void Write(string outDir)
    {
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "report.json"), JsonSerializer.Serialize(this, OffenderStore.Json));
        File.WriteAllText(Path.Combine(outDir, "report.md"), Markdown());
    }

    public string Markdown()
    {
        var md = new StringBuilder();
        md.AppendLine($"# Fuzz run: seed {Seed}, {Requests} requests, {Seconds:0} s against {Target}").AppendLine();
        md.AppendLine("| check | met | figure |").AppendLine("|---|---|---|");
        foreach (var c in Checks)
        {
            md.AppendLine($"| {c.Name} | {(c.Met ? "yes" : "**NO**")} | {c.Detail} |");
        }

        var statuses = ByStatus.Keys.ToArray();
        md.AppendLine().AppendLine("## Requests by family and status").AppendLine();
        md.AppendLine($"| family | {string.Join(" | ", statuses)} |").AppendLine($"|---|{string.Concat(statuses.Select(_ => "---|"))}");
        foreach (var (family, counts) in ByFamily.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            md.AppendLine($"| {family} | {string.Join(" | ", statuses.Select(s => counts.GetValueOrDefault(s).ToString(System.Globalization.CultureInfo.InvariantCulture)))} |");
        }

        md.AppendLine($"| **all** | {string.Join(" | ", statuses.Select(s => ByStatus[s].ToString(System.Globalization.CultureInfo.InvariantCulture)))} |");
        if (Adapters.Count > 0)
        {
            md.AppendLine().AppendLine("## Broken adapters").AppendLine();
            md.AppendLine("| kind | group | what | expected | route | status | ms | server's message | ok |").AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var a in Adapters)
            {
                md.AppendLine($"| {a.Kind} | {a.Group} | {Cell(a.What)} | {a.Expect} | {a.Route} | {a.Status} | {a.Ms:0} | {Cell(a.Message ?? string.Empty)} | {(a.Ok ? "yes" : $"**NO**: {Cell(a.Problem ?? string.Empty)}")} |");
            }
        }

        if (Offences.Count > 0 || ProbeDifferences.Count > 0)
        {
            md.AppendLine().AppendLine("## Offences").AppendLine();
            foreach (var line in Offences.Concat(ProbeDifferences))
            {
                md.AppendLine($"- {Cell(line)}");
            }
        }

        return md.ToString();
    }

    private static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
