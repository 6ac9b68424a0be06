using InferenceHost.LoadTests.Report;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Api.Tests;

/// <summary>
/// The load-test tool against the real server (tiny fixture, Kestrel on loopback) for a few seconds, in
/// two LoRA modes, so neither the tool nor the server's streaming and metrics can drift apart unnoticed.
/// </summary>
public sealed class LoadToolSmokeTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("loadtool-smoke-").FullName;

    [Theory]
    [InlineData("unmerged")]
    [InlineData("merged")]
    public async Task A_short_closed_loop_run_completes_every_request(string mode)
    {
        await using var factory = new ApiFactory(mode: mode);
        var url = await factory.StartOnLoopbackAsync();

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var rc = await InferenceHost.LoadTests.Program.RunAsync(
            ["run", "--url", url, "--mode", "closed", "--concurrency", "4", "--requests", "16", "--duration", "30",
             "--adapter-names", "lora-qv,lora-all,soft-8", "--popularity", "uniform", "--base-model", "tiny-llama",
             "--prompt-len", "6", "--output-len", "6", "--warmup", "0", "--out", output],
            stdout, stderr, cts.Token);
        Assert.True(rc == 0, stdout.ToString() + stderr);

        var run = JsonReport.Read(Path.Combine(output, "results.json")).Runs.Single();
        Assert.Equal(16, run.Completed);
        Assert.Equal(0, run.Failed);
        Assert.Equal(16 * 6L, run.OutputTokens);
        Assert.True(run.Ttft.P50 > 0 && run.E2e.Max >= run.E2e.P50);
        Assert.True(File.Exists(Path.Combine(output, "report.md")));
    }

    public void Dispose() => Directory.Delete(output, recursive: true);
}
