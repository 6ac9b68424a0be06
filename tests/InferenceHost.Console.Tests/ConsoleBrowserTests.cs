using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using InferenceHost.Adapters;
using InferenceHost.Api.Tests;
using InferenceHost.Tests.Shared;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace InferenceHost.Console.Tests;

/// <summary>
/// The console in headless Chromium against the real server: every view loads without console errors, an
/// adapter loaded through the page is listed (with its evaluation card) and answers in Compare, a bad path
/// shows the server's own message, and the traffic charts move while requests run. With
/// <c>INFERENCEHOST_CONSOLE_SCREENSHOTS=DIR</c> the first test also writes a PNG of each view to DIR.
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleSession session) : IClassFixture<ConsoleSession>
{
    private const string Card = SampleCards.Full;

    private static readonly PageWaitForFunctionOptions Soon = new() { Timeout = 20_000, PollingInterval = 100 };

    [SkippableFact]
    public async Task Every_view_loads_without_console_errors_and_shows_the_servers_data()
    {
        var (page, errors) = await OpenAsync();
        using var http = Http();
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/v1/adapters", new { name = "summary-lora", path = CopyLoraQv("summary-lora", Card) })).StatusCode);
        await Task.WhenAll(new[] { "lora-qv", "lora-qv", "soft-8", "tiny-llama", "summary-lora", "lora-qv" }.Select(m => Complete(http, m, 8)));
        if (ScreenshotDir is not null)
        {
            await TrafficForScreenshotsAsync(http);
        }

        await page.GotoAsync(session.Url + "/console");
        await Expect(page.Locator("tr[data-adapter='lora-rs-layer1']")).ToBeVisibleAsync();
        await Expect(page.Locator("tr[data-adapter='summary-lora'] td.eval")).ToContainTextAsync("rouge1");
        await Expect(page.Locator("tr[data-adapter='summary-lora'] td.eval")).ToContainTextAsync("vs base 0.120 (+158%)");
        await Expect(page.Locator("tr[data-adapter='soft-8']")).ToContainTextAsync("8 tokens");
        await Expect(page.Locator("#base-model")).ToHaveTextAsync("tiny-llama");
        await ShotAsync(page, "adapters");

        await page.GotoAsync(session.Url + "/console/#engine");
        await Expect(page.Locator("[data-tile='LoRA mode']")).ToContainTextAsync("configured: auto");
        await Expect(page.Locator("#slots-table tr[data-slot='0']")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-tile='KV cache']")).ToContainTextAsync("MiB");
        await page.WaitForFunctionAsync("() => Number(document.getElementById('engine-chart').dataset.updates) >= 3", null, Soon);
        if (ScreenshotDir is not null)
        {
            await OneAdapterDominatesAsync(http, page); // auto mode merges it; the screenshot is taken under that load
        }


        await page.GotoAsync(session.Url + "/console/#traffic");
        await Expect(page.Locator("#traffic-table tr[data-group='lora-qv'] td[data-field='requests']")).Not.ToHaveTextAsync("0");
        await Expect(page.Locator("#traffic-table tr[data-group='soft-8']")).ToBeVisibleAsync();
        await page.Locator("#traffic-window").SelectOptionAsync("60:1");
        await page.WaitForFunctionAsync("() => Number(document.getElementById('chart-ttft').dataset.points) > 0", null, Soon);
        await ShotAsync(page, "traffic");

        await page.GotoAsync(session.Url + "/console/#compare");
        await page.Locator("#compare-add").ClickAsync();
        var third = page.Locator(".spec[data-spec='2']");
        await third.Locator("input[data-adapter='lora-qv']").CheckAsync();
        await third.Locator("input[data-adapter='soft-8']").CheckAsync();
        await page.Locator("#compare-ignore-eos").CheckAsync();
        await page.Locator("#compare-max").FillAsync("12");
        await page.Locator("#compare-run").ClickAsync();
        foreach (var column in new[] { "base", "lora-all", "lora-qv + soft-8" }) // column 2 starts with the first adapter
        {
            await Expect(page.Locator($".column[data-column='{column}'] header .tag")).ToHaveTextAsync("done");
            await Expect(page.Locator($".column[data-column='{column}'] .stats")).ToContainTextAsync("tokens12");
        }

        await ShotAsync(page, "compare");
        Assert.Empty(errors);
    }

    [SkippableFact]
    public async Task An_adapter_loaded_through_the_page_is_listed_and_answers_in_compare_then_unloads()
    {
        var (page, errors) = await OpenAsync();
        var dir = CopyLoraQv("page-lora", Card);
        await page.GotoAsync(session.Url + "/console/#adapters");
        await page.Locator("#load-name").FillAsync("page-lora");
        await page.Locator("#load-path").FillAsync(dir);
        await page.Locator("#load-button").ClickAsync();
        await Expect(page.Locator("#load-result")).ToHaveTextAsync("loaded 'page-lora' (lora, rank 8)");
        var row = page.Locator("tr[data-adapter='page-lora']");
        await Expect(row).ToContainTextAsync("q_proj, v_proj");
        await Expect(row.Locator("td.eval")).ToContainTextAsync("dialogue-summary");

        await page.Locator("nav a[data-view='compare']").ClickAsync();
        var second = page.Locator(".spec[data-spec='1']");
        var chosen = second.Locator("input[data-adapter]:checked");
        while (await chosen.CountAsync() > 0)
        {
            await chosen.First.ClickAsync();
        }

        await second.Locator("input[data-adapter='page-lora']").CheckAsync();
        await page.Locator("#compare-ignore-eos").CheckAsync();
        await page.Locator("#compare-max").FillAsync("5");
        await page.Locator("#compare-run").ClickAsync();
        var column = page.Locator(".column[data-column='page-lora']");
        await Expect(column.Locator("header .tag")).ToHaveTextAsync("done");
        await Expect(column.Locator(".stats")).ToContainTextAsync("tokens5");
        Assert.NotEmpty((await column.Locator(".output").TextContentAsync())!);

        // The same greedy request through the API gives the text the column streamed.
        using var http = Http();
        var expected = await Complete(http, "page-lora", 5);
        Assert.Equal(expected, await column.Locator(".output").TextContentAsync());

        await page.Locator("nav a[data-view='adapters']").ClickAsync();
        var unload = page.Locator("button[data-unload='page-lora']");
        await unload.ClickAsync();
        await Expect(unload).ToHaveTextAsync("Confirm");
        await unload.ClickAsync();
        await Expect(page.Locator("#load-result")).ToHaveTextAsync("unloaded 'page-lora'");
        await Expect(row).ToHaveCountAsync(0);
        Assert.Empty(errors);
    }

    [SkippableFact]
    public async Task A_bad_path_shows_the_servers_message_as_it_is()
    {
        var broken = Path.Combine(session.Root, "broken");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, "adapter_config.json"), "{ not json");
        var (page, errors) = await OpenAsync();
        await page.GotoAsync(session.Url + "/console/#adapters");
        using var http = Http();
        foreach (var (path, status) in new[] { ("/etc", HttpStatusCode.Forbidden), (broken, HttpStatusCode.BadRequest) })
        {
            var response = await http.PostAsJsonAsync("/v1/adapters", new { name = "bad", path });
            Assert.Equal(status, response.StatusCode);
            var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString();

            await page.Locator("#load-name").FillAsync("bad");
            await page.Locator("#load-path").FillAsync(path);
            await page.Locator("#load-button").ClickAsync();
            await Expect(page.Locator("#load-result")).ToHaveTextAsync($"{(int)status}: {message}");
            await Expect(page.Locator("#load-result")).ToHaveClassAsync("result bad");
        }

        await Expect(page.Locator("tr[data-adapter='bad']")).ToHaveCountAsync(0);

        // Chromium reports each refused request itself as a console error; nothing else may appear.
        Assert.All(errors, e => Assert.True(e.Contains("status of 403", StringComparison.Ordinal) || e.Contains("status of 400", StringComparison.Ordinal), e));
    }

    [SkippableFact]
    public async Task With_keys_configured_the_page_asks_for_one_and_load_needs_the_admin_key()
    {
        var (page, errors) = await OpenAsync();
        await using var keyed = new ApiFactory(extra: new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = "user-key",
            ["Auth:AdminKeys:0"] = "admin-key",
            ["Adapters:AllowedRoots:0"] = session.Root,
        });
        var url = await keyed.StartOnLoopbackAsync();
        await page.GotoAsync(url + "/console/#adapters");
        await Expect(page.Locator("#key-bar")).ToBeVisibleAsync();
        await Expect(page.Locator("#key-message")).ToContainTextAsync("401: missing API key");

        await page.Locator("#key-input").FillAsync("user-key");
        await page.Locator("#key-input").PressAsync("Enter");
        await Expect(page.Locator("#key-bar")).ToBeHiddenAsync();
        await Expect(page.Locator("tr[data-adapter='lora-qv']")).ToBeVisibleAsync();

        var dir = CopyLoraQv("keyed-lora", Card);
        await page.Locator("#load-name").FillAsync("keyed-lora");
        await page.Locator("#load-path").FillAsync(dir);
        await page.Locator("#load-button").ClickAsync();
        await Expect(page.Locator("#load-result")).ToHaveTextAsync("403: this route needs an admin key (Auth:AdminKeys)");

        await page.Locator("#key-button").ClickAsync();
        await page.Locator("#key-input").FillAsync("admin-key");
        await page.Locator("#key-input").PressAsync("Enter");
        await Expect(page.Locator("#key-bar")).ToBeHiddenAsync();
        await page.Locator("#load-button").ClickAsync();
        await Expect(page.Locator("#load-result")).ToHaveTextAsync("loaded 'keyed-lora' (lora, rank 8)");
        await Expect(page.Locator("tr[data-adapter='keyed-lora']")).ToBeVisibleAsync();
        Assert.All(errors, e => Assert.True(e.Contains("status of 401", StringComparison.Ordinal) || e.Contains("status of 403", StringComparison.Ordinal), e));
    }

    [SkippableFact]
    public async Task The_traffic_charts_update_as_traffic_runs()
    {
        var (page, errors) = await OpenAsync();
        await page.GotoAsync(session.Url + "/console/#traffic");
        await page.Locator("#traffic-window").SelectOptionAsync("60:1");
        await page.WaitForFunctionAsync("() => Number(document.getElementById('chart-rate').dataset.updates) >= 1", null, Soon);
        var before = double.Parse((await page.Locator("#chart-rate").GetAttributeAsync("data-sum"))!, System.Globalization.CultureInfo.InvariantCulture);

        using var http = Http();
        using var stop = new CancellationTokenSource();
        var traffic = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Complete(http, "lora-all", 4);
            }
        });
        try
        {
            await Expect(page.Locator("#traffic-table tr[data-group='lora-all']")).ToBeVisibleAsync(new() { Timeout = 20_000 });
            await page.WaitForFunctionAsync($"() => Number(document.getElementById('chart-rate').dataset.sum) > {before}", null, Soon);
            await page.WaitForFunctionAsync("() => Number(document.getElementById('chart-tpot').dataset.points) > 0", null, Soon);
        }
        finally
        {
            await stop.CancelAsync();
            await traffic;
        }

        Assert.Empty(errors);
    }

    private async Task<(IPage Page, List<string> Errors)> OpenAsync()
    {
        Skip.If(session.Unavailable is not null, session.Unavailable);
        var page = await session.Browser!.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        var errors = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                errors.Add(m.Text);
            }
        };
        page.PageError += (_, e) => errors.Add("page error: " + e);
        return (page, errors);
    }

    private HttpClient Http() => new() { BaseAddress = new Uri(session.Url) };

    private static async Task<string> Complete(HttpClient http, string model, int tokens)
    {
        using var r = await http.PostAsJsonAsync("/v1/completions", new { model, prompt = "Q: What is the capital of France?\nA:", max_tokens = tokens, temperature = 0, ignore_eos = true });
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
    }

    private string CopyLoraQv(string name, string card)
    {
        var dir = Path.Combine(session.Root, name);
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(TestFixtures.AdapterDir("tiny-llama", "lora-qv")))
        {
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)), overwrite: true);
        }

        File.WriteAllText(Path.Combine(dir, EvaluationCardReader.FileName), card);
        return dir;
    }

    private static string? ScreenshotDir => Environment.GetEnvironmentVariable("INFERENCEHOST_CONSOLE_SCREENSHOTS") is { Length: > 0 } d ? d : null;

    /// <summary>Screenshot runs only: 40 s of mixed traffic in three loops, so the charts have something to show.</summary>
    private static async Task TrafficForScreenshotsAsync(HttpClient http)
    {
        string[] models = ["lora-qv", "soft-8", "tiny-llama", "summary-lora", "lora-all", "lora-qv"];
        var until = DateTime.UtcNow.AddSeconds(40);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(async loop =>
        {
            for (var i = loop; DateTime.UtcNow < until; i++)
            {
                await Complete(http, models[i % models.Length], 8 + (i % 3 * 8));
            }
        }));
    }

    /// <summary>Screenshot runs only: 15 s of four concurrent loops on lora-qv alone, watched on the Engine view.</summary>
    private static async Task OneAdapterDominatesAsync(HttpClient http, IPage page)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        var loops = Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            while (DateTime.UtcNow < until)
            {
                await Complete(http, "lora-qv", 24);
            }
        }));
        await page.WaitForTimeoutAsync(13_000);
        await ShotAsync(page, "engine");
        await loops;
    }

    private static async Task ShotAsync(IPage page, string view)
    {
        if (ScreenshotDir is { } dir)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, view + ".png"), FullPage = true });
        }
    }
}
