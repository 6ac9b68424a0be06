using System.Diagnostics;
using InferenceHost.Api.Tests;
using InferenceHost.Tests.Shared;
using Microsoft.Playwright;

namespace InferenceHost.Console.Tests;

/// <summary>
/// One server (tiny fixture, Kestrel on a loopback port, auto LoRA mode) and one headless Chromium for the
/// console tests. Chromium is Debian's (scripts/install-chromium.sh installs it when it can); when none
/// can be had, <see cref="Unavailable"/> says why and the tests skip with that message.
/// </summary>
public sealed class ConsoleSession : IAsyncLifetime
{
    private static readonly string[] ChromiumArgs =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    private readonly string profile = Directory.CreateTempSubdirectory("console-chromium-").FullName;
    private IPlaywright? playwright;

    /// <summary>An allowed adapter root the tests may write into.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("console-adapters-").FullName;

    public ApiFactory? Server { get; private set; }

    public string Url { get; private set; } = string.Empty;

    public IBrowserContext? Browser { get; private set; }

    public string? Unavailable { get; private set; }

    public async Task InitializeAsync()
    {
        var chromium = FindChromium();
        if (chromium is null)
        {
            Unavailable = "no Chromium: scripts/install-chromium.sh could not install it (needs root and apt-get); set CHROMIUM_PATH to use another";
            return;
        }

        Server = new ApiFactory(mode: "auto", extra: new Dictionary<string, string?>
        {
            ["Adapters:AllowedRoots:0"] = Path.Combine(TestFixtures.ModelDir("tiny-llama"), "adapters"),
            ["Adapters:AllowedRoots:1"] = Root,
        });
        Url = await Server.StartOnLoopbackAsync();
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ChromiumArgs,
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
            Timeout = 30_000,
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        playwright?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        Directory.Delete(profile, recursive: true);
        Directory.Delete(Root, recursive: true);
    }

    private static string? FindChromium()
    {
        string?[] candidates = [Environment.GetEnvironmentVariable("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"];
        if (candidates.FirstOrDefault(File.Exists) is { } found)
        {
            return found;
        }

        var script = Path.Combine(TestFixtures.RepoRoot, "scripts", "install-chromium.sh");
        using var install = Process.Start(new ProcessStartInfo("bash", [script]) { RedirectStandardError = true, RedirectStandardOutput = true });
        if (install is null || !install.WaitForExit(TimeSpan.FromMinutes(5)) || install.ExitCode != 0)
        {
            return null;
        }

        return candidates.FirstOrDefault(File.Exists);
    }
}
