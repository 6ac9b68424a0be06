using System.Reflection;
using InferenceHost.Fuzz.Adapters;
using InferenceHost.Fuzz.Cases;
using InferenceHost.Fuzz.Run;
using InferenceHost.Fuzz.Target;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Fuzz.Tests;

/// <summary>
/// The fuzz command's core, seeded, against the real server started as a child process on loopback (tiny fixture):
/// 300 mutated requests of every family and every broken adapter kind. 0 5xx, 0 resets, probes unchanged.
/// The full run (thousands of requests) is the benchmark command in loadtests/README.md.
/// </summary>
public sealed class SeededRunTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("fuzz-seeded-").FullName;

    private static string HostDll => typeof(SeededRunTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "HostDll").Value!;

    [Fact]
    public async Task A_seeded_run_gets_no_5xx_no_resets_and_identical_probes()
    {
        var settings = new FuzzSettings
        {
            Target = new TargetOptions { HostDll = HostDll, ModelDir = TestFixtures.ModelDir("tiny-llama"), ReadyTimeoutSeconds = 60 },
            Requests = 300,
            Seed = 1,
            OutDir = output,
        };
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var report = await FuzzRunner.RunAsync(settings, TextWriter.Null, cts.Token);

        var why = string.Join("\n", report.Checks.Where(c => !c.Met).Select(c => $"{c.Name}: {c.Detail}").Concat(report.Offences).Concat(report.ProbeDifferences));
        Assert.True(report.Passed, why);
        Assert.Equal(0, report.ServerErrors);
        Assert.Equal(0, report.Resets);
        Assert.Empty(report.ProbeDifferences);
        Assert.True(report.Probes >= 4, $"{report.Probes} probes");
        Assert.Equal(AdapterAttack.AllKinds.Count, report.Adapters.Count);
        Assert.All(report.Adapters, a => Assert.True(a.Ok, $"{a.Kind}: {a.Problem}"));

        // The run exercised what it claims: every family, answers that succeeded and answers that refused.
        Assert.Superset(Families.Names.ToHashSet(), report.ByFamily.Keys.ToHashSet());
        Assert.True(report.ByStatus.GetValueOrDefault("200") > 20 && report.ByStatus.GetValueOrDefault("400") > 100, string.Join(", ", report.ByStatus));
        Assert.True(File.Exists(Path.Combine(output, "report.md")));
    }

    public void Dispose() => Directory.Delete(output, recursive: true);
}
