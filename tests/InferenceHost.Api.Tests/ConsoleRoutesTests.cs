using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using InferenceHost.Adapters;
using InferenceHost.Telemetry;

namespace InferenceHost.Api.Tests;

/// <summary>What the console relies on: the traffic window and its route, evaluation cards in the listings, the embedded files.</summary>
public sealed class ConsoleRoutesTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("console-routes-").FullName;

    [Fact]
    public void The_traffic_window_buckets_samples_by_the_clock_and_takes_nearest_rank_percentiles()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000_000_000));
        var window = new TrafficWindow(clock);
        window.Add("old", 1, TimeSpan.FromMilliseconds(1), null, TimeSpan.FromMilliseconds(1));
        clock.Now += TrafficWindow.Span; // "old" falls out of the 15-minute window
        var start = clock.Now;
        for (var i = 1; i <= 10; i++)
        {
            clock.Now = start + TimeSpan.FromMilliseconds(i * 300); // 0.3 s .. 3.0 s
            window.Add(i % 2 == 0 ? "a" : "b", 4, TimeSpan.FromMilliseconds(10 * i), TimeSpan.FromMilliseconds(i), TimeSpan.FromMilliseconds(100 * i));
        }

        clock.Now = start + TimeSpan.FromMilliseconds(3500);
        var (now, samples) = window.Snapshot(TimeSpan.FromSeconds(12));
        Assert.Equal(10, samples.Count);
        var r = TrafficReport.Build(now, samples, windowSeconds: 10, stepSeconds: 1);
        Assert.Equal(["a", "b"], r.Adapters.Keys);
        Assert.Equal(10, r.Buckets.Length);
        Assert.Equal(start.ToUnixTimeMilliseconds() + 3000 - 1000, r.Buckets[^1]); // the bucket still filling (3 s..4 s) is left out
        Assert.Equal(10, r.Total.Requests);
        Assert.Equal(40, r.Total.Tokens);
        Assert.Equal(1.0, r.Total.RequestsPerSecond, 6);
        Assert.Equal(new Percentiles(50, 90, 100), r.Total.TtftMs);
        Assert.Equal(new Percentiles(5, 9, 10), r.Total.TpotMs);
        Assert.Equal(new Percentiles(60, 100, 100), r.Adapters["a"].TtftMs); // 20, 40, 60, 80, 100: the 3rd, 5th, 5th

        // Buckets [0 s, 1 s) [1, 2) [2, 3) hold samples 1-3, 4-6, 7-9; sample 10 (3.0 s) is in the open bucket.
        Assert.Equal([3.0, 3.0, 3.0], r.Total.Series.RequestsPerSecond[^3..]);
        Assert.Equal([12.0, 12.0, 12.0], r.Total.Series.TokensPerSecond[^3..]);
        Assert.Equal([20.0, 50.0, 80.0], r.Total.Series.TtftP50Ms[^3..].Select(v => v!.Value));
        Assert.Null(r.Total.Series.TtftP50Ms[0]);
        Assert.Equal(0, r.Total.Series.RequestsPerSecond[0]);
    }

    [Fact]
    public async Task Traffic_route_reports_finished_requests_per_adapter_and_refuses_bad_parameters()
    {
        await using var factory = new ApiFactory();
        var client = await factory.ReadyAsync();
        foreach (var model in new[] { "lora-qv", "lora-qv", "tiny-llama" })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/completions", new { model, prompt = "hi", max_tokens = 3, ignore_eos = true })).Status);
        }

        var body = await Http.ReadAsync(await client.GetAsync("/v1/traffic?window=60&step=5"));
        Assert.Equal(12, body.GetProperty("buckets").GetArrayLength());
        Assert.Equal(3, body.GetProperty("total").GetProperty("requests").GetInt32());
        Assert.Equal(9, body.GetProperty("total").GetProperty("tokens").GetInt64());
        var qv = body.GetProperty("adapters").GetProperty("lora-qv");
        Assert.Equal(2, qv.GetProperty("requests").GetInt32());
        Assert.True(qv.GetProperty("ttft_ms").GetProperty("p50").GetDouble() > 0);
        Assert.Equal(12, qv.GetProperty("series").GetProperty("tpot_p90_ms").GetArrayLength());
        Assert.Equal(1, body.GetProperty("adapters").GetProperty("base").GetProperty("requests").GetInt32());

        Assert.Contains("'window'", (await Get(client, "/v1/traffic?window=5")).Error(HttpStatusCode.BadRequest));
        Assert.Contains("'step'", (await Get(client, "/v1/traffic?step=abc")).Error(HttpStatusCode.BadRequest));
        Assert.Contains("from 1 to 60", (await Get(client, "/v1/traffic?window=60&step=120")).Error(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Models_and_adapters_show_the_evaluation_card_or_why_it_cannot_be_read()
    {
        await using var factory = new ApiFactory(extra: new Dictionary<string, string?> { ["Adapters:AllowedRoots:0"] = root });
        var client = await factory.ReadyAsync();
        var good = Copy("good", """{"task": "dialogue-summary", "metric": "rouge1", "score": 0.31, "base_score": 0.12, "scores": {"rougeL": 0.25, "bleu": 4.2}}""");
        var bad = Copy("bad", """{"task": "dialogue-summary", "metric": "rouge1", "score": 31}""");
        Assert.Equal(HttpStatusCode.Created, (await client.PostJsonAsync("/v1/adapters", new { name = "good", path = good })).Status);
        Assert.Equal(HttpStatusCode.Created, (await client.PostJsonAsync("/v1/adapters", new { name = "bad", path = bad })).Status);

        var models = (await Http.ReadAsync(await client.GetAsync("/v1/models"))).GetProperty("data").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!);
        var card = models["good"].GetProperty("evaluation");
        Assert.Equal("dialogue-summary", card.GetProperty("task").GetString());
        Assert.Equal(0.12, card.GetProperty("base_score").GetDouble());
        Assert.Equal(4.2, card.GetProperty("scores").GetProperty("bleu").GetDouble());
        Assert.Equal(JsonValueKind.Null, models["good"].GetProperty("evaluation_error").ValueKind);
        Assert.Equal(JsonValueKind.Null, models["lora-qv"].GetProperty("evaluation").ValueKind);

        var broken = await Http.ReadAsync(await client.GetAsync("/v1/adapters/bad"));
        Assert.Equal(JsonValueKind.Null, broken.GetProperty("evaluation").ValueKind);
        Assert.Contains("'score' is 31, outside 0..1", broken.GetProperty("evaluation_error").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/completions", new { model = "bad", prompt = "hi", max_tokens = 2 })).Status);
    }

    [Fact]
    public async Task The_console_is_served_from_the_assembly_with_a_strict_policy_while_its_data_needs_the_key()
    {
        await using var factory = new ApiFactory(extra: new Dictionary<string, string?> { ["Auth:ApiKeys:0"] = "k" });
        var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var redirect = await client.GetAsync("/console");
        Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
        Assert.EndsWith("/console/", redirect.Headers.Location!.ToString());

        var index = await client.GetAsync("/console/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Contains("<script type=\"module\" src=\"js/app.js\"></script>", await index.Content.ReadAsStringAsync());
        var csp = index.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("connect-src 'self'", csp);
        Assert.Equal("nosniff", index.Headers.GetValues("X-Content-Type-Options").Single());

        foreach (var file in new[] { "js/app.js", "js/api.js", "js/adapters.js", "js/engine.js", "js/traffic.js", "js/compare.js", "js/charts.js", "console.css" })
        {
            var r = await client.GetAsync("/console/" + file);
            Assert.True(r.StatusCode == HttpStatusCode.OK, file);
            Assert.Equal(file.EndsWith(".css") ? "text/css" : "text/javascript", r.Content.Headers.ContentType!.MediaType);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/console/missing.js")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/traffic")).StatusCode);
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static async Task<(HttpStatusCode, JsonElement)> Get(HttpClient client, string url)
    {
        using var r = await client.GetAsync(url);
        return (r.StatusCode, await Http.ReadAsync(r));
    }

    private string Copy(string name, string card)
    {
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(InferenceHost.Tests.Shared.TestFixtures.AdapterDir("tiny-llama", "lora-qv")))
        {
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        }

        File.WriteAllText(Path.Combine(dir, EvaluationCardReader.FileName), card);
        return dir;
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
