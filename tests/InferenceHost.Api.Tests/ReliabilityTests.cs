using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using InferenceHost.Adapters.Peft;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Api.Tests;

/// <summary>
/// Bad input of every kind at the edges is a 4xx naming what is wrong, never a 5xx or a cut stream; ordinary
/// OpenAI logprobs usage works, streaming included; broken adapter files are refused by type, within a bounded time.
/// </summary>
public sealed class ReliabilityTests : IClassFixture<ApiBehaviourTests.Server>
{
    private readonly ApiBehaviourTests.Server server;

    public ReliabilityTests(ApiBehaviourTests.Server server) => this.server = server;

    [Theory]
    [InlineData("{\"prompt\": \"\\udfff\"}", "prompt")]
    [InlineData("{\"prompt\": \"hi\", \"stop\": [\"a\\ud800\"]}", "stop")]
    [InlineData("{\"prompt\": \"hi\", \"user\": \"x\\u0000y\"}", "user")]
    [InlineData("{\"prompt\": \"hi\", \"model\": \"a\\u0000\"}", "model")]
    [InlineData("{\"prompt\": \"hi\", \"frobnicate\": 1}", "frobnicate")]
    [InlineData("{\"prompt\": \"hi\", \"max_tokens\": 2, \"max_tokens\": 3}", "max_tokens")]
    [InlineData("{\"prompt\": \"hi\", \"temperature\": 1e308}", "temperature")]
    [InlineData("{\"prompt\": \"hi\", \"top_k\": 99999999999}", "top_k")]
    [InlineData("{\"prompt\": \"hi\", \"logprobs\": 21}", "logprobs")]
    [InlineData("{\"prompt\": \"hi\", \"seed\": \"7\"}", "seed")]
    [InlineData("{\"prompt\": [[1, 2], [99999999]]}", "prompt")]
    [InlineData("{\"prompt\": \"hi\", \"adapters\": [{\"name\": \"lora-qv\", \"weight\": 1e9}]}", "adapters[0].weight")]
    [InlineData("{\"prompt\": \"hi\", \"presence_penalty\": 0.5}", "presence_penalty")]
    public async Task Bad_fields_are_400_naming_the_field(string json, string field)
    {
        var client = await server.Factory.ReadyAsync();
        var r = await client.PostRawAsync("/v1/completions", json);
        r.Error(HttpStatusCode.BadRequest);
        Assert.Equal(field, r.Body.GetProperty("error").GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\", \"mood\": 1}]}", "messages[0].mood")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}", "messages[0].content")]
    [InlineData("{\"messages\": [{\"content\": \"hi\"}]}", "messages[0].role")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"\\udc00\"}]}", "messages[0].content")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_logprobs\": 2}", "top_logprobs")]
    public async Task Bad_chat_fields_are_400_naming_the_field(string json, string field)
    {
        var client = await server.Factory.ReadyAsync();
        var r = await client.PostRawAsync("/v1/chat/completions", json);
        r.Error(HttpStatusCode.BadRequest);
        Assert.Equal(field, r.Body.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Unknown_routes_and_methods_under_v1_answer_in_the_OpenAI_shape()
    {
        var client = await server.Factory.ReadyAsync();
        Assert.Contains("/v1/nope", (await client.PostRawAsync("/v1/nope", "{}")).Error(HttpStatusCode.NotFound));
        using var put = await client.PutAsync("/v1/completions", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        Assert.Equal("invalid_request_error", JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Prompts_times_n_beyond_the_queue_are_400_not_429()
    {
        var client = await server.Factory.ReadyAsync();
        var prompts = Enumerable.Repeat("hi", 100).ToArray();
        var r = await client.PostJsonAsync("/v1/completions", new { prompt = prompts, n = 3, max_tokens = 1 });
        Assert.Contains("MaxQueuedRequests", r.Error(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Ordinary_logprobs_usage_works_streaming_included()
    {
        var client = await server.Factory.ReadyAsync();
        var messages = new[] { new { role = "user", content = "Hello" } };
        foreach (var body in new object[]
        {
            new { prompt = "Once upon a time", max_tokens = 3, logprobs = 0 },
            new { prompt = "Once upon a time", max_tokens = 3, logprobs = 0, stream = true },
            new { prompt = "Once upon a time", max_tokens = 3, logprobs = 0, echo = true },
        })
        {
            await AssertOk(client, "/v1/completions", body);
        }

        foreach (var body in new object[]
        {
            new { messages, max_tokens = 3, logprobs = true },
            new { messages, max_tokens = 3, logprobs = true, top_logprobs = 2 },
            new { messages, max_tokens = 3, logprobs = true, stream = true },
            new { messages, max_tokens = 3, logprobs = true, top_logprobs = 0, stream = true, temperature = 1e-9 },
        })
        {
            await AssertOk(client, "/v1/chat/completions", body);
        }

        var (_, chat) = await client.PostJsonAsync("/v1/chat/completions", new { messages, max_tokens = 3, logprobs = true });
        var content = chat.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content");
        Assert.Equal(3, content.GetArrayLength());
        Assert.All(content.EnumerateArray(), t => Assert.True(t.GetProperty("logprob").GetDouble() <= 0));
    }

    [Fact]
    public async Task Broken_adapter_files_are_refused_by_type_within_a_bounded_time()
    {
        var client = await server.Factory.ReadyAsync();
        var source = TestFixtures.AdapterDir("tiny-llama", "lora-qv");
        string Copy(string name)
        {
            var dir = Path.Combine(server.Root, name);
            Directory.CreateDirectory(dir);
            File.Copy(Path.Combine(source, PeftNames.ConfigFile), Path.Combine(dir, PeftNames.ConfigFile), overwrite: true);
            File.Copy(Path.Combine(source, PeftNames.WeightsFile), Path.Combine(dir, PeftNames.WeightsFile), overwrite: true);
            return dir;
        }

        void Patch(string dir, string key, object value)
        {
            var path = Path.Combine(dir, PeftNames.ConfigFile);
            var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            config[key] = System.Text.Json.Nodes.JsonValue.Create(value);
            File.WriteAllText(path, config.ToJsonString());
        }

        var fifo = Copy("fifo");
        File.Delete(Path.Combine(fifo, PeftNames.WeightsFile));
        Assert.Equal(0, Process.Start("mkfifo", Path.Combine(fifo, PeftNames.WeightsFile)).WaitForExitAndCode());
        var device = Copy("device");
        File.Delete(Path.Combine(device, PeftNames.WeightsFile));
        File.CreateSymbolicLink(Path.Combine(device, PeftNames.WeightsFile), "/dev/zero");
        var loop = Copy("loop");
        File.Delete(Path.Combine(loop, PeftNames.WeightsFile));
        File.CreateSymbolicLink(Path.Combine(loop, PeftNames.WeightsFile), Path.Combine(loop, "other"));
        File.CreateSymbolicLink(Path.Combine(loop, "other"), Path.Combine(loop, PeftNames.WeightsFile));
        var regex = Copy("regex");
        Patch(regex, "target_modules", "q_proj(");
        var rank0 = Copy("rank0");
        File.WriteAllText(Path.Combine(rank0, PeftNames.ConfigFile), File.ReadAllText(Path.Combine(rank0, PeftNames.ConfigFile)).TrimEnd().TrimEnd('}') + ", \"rank_pattern\": {\"q_proj\": 0}}");
        var alpha = Copy("alpha");
        Patch(alpha, "lora_alpha", 1e9);

        // A link out of the allowed roots (here to /dev/zero) is refused before anything else looks at it: 403.
        foreach (var (dir, status, expected) in new[]
        {
            (fifo, HttpStatusCode.BadRequest, "not a regular file"), (device, HttpStatusCode.Forbidden, "outside"), (loop, HttpStatusCode.BadRequest, "link"),
            (regex, HttpStatusCode.BadRequest, "regular expression"), (rank0, HttpStatusCode.BadRequest, "rank_pattern"), (alpha, HttpStatusCode.BadRequest, "scale"),
        })
        {
            var clock = Stopwatch.StartNew();
            var r = await client.PostJsonAsync("/v1/adapters", new { name = Path.GetFileName(dir), path = dir }).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Contains(expected, r.Error(status));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{dir}: took {clock.Elapsed}");
        }

        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/completions", new { prompt = "hi", max_tokens = 1 })).Status);
    }

    private static async Task AssertOk(HttpClient client, string url, object body)
    {
        using var response = await client.PostAsJsonAsync(url, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} {JsonSerializer.Serialize(body)}: {(int)response.StatusCode} {text}");
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            Assert.EndsWith("data: [DONE]\n\n", text);
            Assert.DoesNotContain("\"error\"", text);
        }
    }
}

internal static class ProcessExtensions
{
    public static int WaitForExitAndCode(this Process? p)
    {
        p!.WaitForExit();
        return p.ExitCode;
    }
}
