using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Api.Tests;

/// <summary>One server over tiny-llama: streaming, chat, models, adapter management, bad input.</summary>
public sealed class ApiBehaviourTests : IClassFixture<ApiBehaviourTests.Server>
{
    private readonly Server server;

    public ApiBehaviourTests(Server server) => this.server = server;

    private static GoldenFixture Tiny => TestFixtures.Goldens.Fixtures.Single(f => f.Model == "tiny-llama");

    [Fact]
    public async Task Streaming_sends_token_chunks_a_finish_chunk_usage_and_done()
    {
        var client = await server.Factory.ReadyAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent.Create(new { prompt = "Once upon a time", max_tokens = 5, temperature = 0, ignore_eos = true, stream = true, stream_options = new { include_usage = true } }),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToArray();
        Assert.All(chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        var first = chunks[0].GetProperty("choices")[0];
        Assert.Equal(0, first.GetProperty("index").GetInt32());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("finish_reason").ValueKind);
        Assert.Equal("length", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var usage = chunks[^1].GetProperty("usage");
        Assert.Equal(5, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());

        // Streamed text equals the non-streamed text.
        var streamed = string.Concat(chunks[..^1].Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString()));
        var (_, whole) = await client.PostJsonAsync("/v1/completions", new { prompt = "Once upon a time", max_tokens = 5, temperature = 0, ignore_eos = true });
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("text").GetString(), streamed);
    }

    [Fact]
    public async Task List_prompts_and_n_give_indexed_choices_with_logprobs()
    {
        var client = await server.Factory.ReadyAsync();
        var (status, body) = await client.PostJsonAsync("/v1/completions", new { prompt = new[] { "Once upon a time", "1 + 1 = 2, 2 + 2 =" }, n = 2, max_tokens = 3, temperature = 0, logprobs = 2, echo = true });
        Assert.Equal(HttpStatusCode.OK, status);
        var choices = body.GetProperty("choices").EnumerateArray().ToArray();
        Assert.Equal([0, 1, 2, 3], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.StartsWith("Once upon a time", choices[1].GetProperty("text").GetString());
        Assert.StartsWith("1 + 1", choices[2].GetProperty("text").GetString());
        // With echo, the prompt's tokens come first (the first has no logprob, as in OpenAI's legacy API), then the 3 generated.
        var lp = choices[0].GetProperty("logprobs");
        var promptTokens = lp.GetProperty("tokens").GetArrayLength() - 3;
        Assert.True(promptTokens >= 1, "echo with logprobs gives the prompt tokens too");
        Assert.Equal(promptTokens + 3, lp.GetProperty("token_logprobs").GetArrayLength());
        Assert.Equal(promptTokens + 3, lp.GetProperty("text_offset").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, lp.GetProperty("token_logprobs")[0].ValueKind);
        Assert.True(lp.GetProperty("token_logprobs")[1].GetDouble() <= 0);
        Assert.InRange(lp.GetProperty("top_logprobs")[promptTokens].EnumerateObject().Count(), 1, 2);
        Assert.Equal(12, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Chat_completion_and_chat_streaming()
    {
        var client = await server.Factory.ReadyAsync();
        var messages = new object[] { new { role = "system", content = "Be brief." }, new { role = "user", content = "Hello" } };
        var (status, body) = await client.PostJsonAsync("/v1/chat/completions", new { model = "lora-qv", messages, max_tokens = 4, temperature = 0, ignore_eos = true });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        var message = body.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal(4, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        using var response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "lora-qv", messages, max_tokens = 4, temperature = 0, ignore_eos = true, stream = true });
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e[6..]).RootElement).ToArray();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var text = string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : ""));
        Assert.Equal(message.GetProperty("content").GetString(), text);
    }

    [Fact]
    public async Task Models_lists_base_and_adapters()
    {
        var client = await server.Factory.ReadyAsync();
        var body = await Http.ReadAsync(await client.GetAsync("/v1/models"));
        var data = body.GetProperty("data").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!);
        Assert.Equal(JsonValueKind.Null, data["tiny-llama"].GetProperty("parent").ValueKind);
        Assert.Equal("tiny-llama", data["tiny-llama"].GetProperty("root").GetString()); // a name, never the server's path
        Assert.Equal("tiny-llama", data["lora-qv"].GetProperty("parent").GetString());
        Assert.Equal("lora", data["lora-qv"].GetProperty("type").GetString());
        Assert.Equal("soft_prompt", data["soft-8"].GetProperty("type").GetString());
        Assert.Equal(8, data["soft-8"].GetProperty("virtual_tokens").GetInt32());
    }

    [Fact]
    public async Task Adapters_load_and_unload_at_run_time_and_a_broken_one_does_not_disturb_traffic()
    {
        var client = await server.Factory.ReadyAsync();
        var dir = Path.Combine(server.Root, "qv-copy");
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(TestFixtures.AdapterDir("tiny-llama", "lora-qv")))
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)), overwrite: true);
        }

        var (status, body) = await client.PostJsonAsync("/v1/adapters", new { name = "qv-copy", path = dir });
        Assert.True(status == HttpStatusCode.Created, body.ToString());
        var qvCase = Tiny.Cases.First(c => c.Adapter == "lora-qv");
        await GoldenHttpTests.Check(client, Tiny, qvCase, model: "qv-copy");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/adapters/qv-copy")).StatusCode);

        // A broken adapter is refused while golden traffic runs; the traffic is unaffected.
        var broken = Path.Combine(server.Root, "broken");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, "adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": ");
        File.WriteAllBytes(Path.Combine(broken, "adapter_model.safetensors"), [1, 2, 3]);
        var traffic = Task.WhenAll(Tiny.Cases.Select(c => GoldenHttpTests.Check(client, Tiny, c)));
        var loadBroken = await client.PostJsonAsync("/v1/load_lora_adapter", new { lora_name = "broken", lora_path = broken });
        Assert.Contains("broken", loadBroken.Error(HttpStatusCode.BadRequest));
        await traffic;

        // vLLM-style unload, then the name is gone (404 listing what exists).
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/unload_lora_adapter", new { lora_name = "qv-copy" })).Status);
        var gone = await client.PostJsonAsync("/v1/completions", new { model = "qv-copy", prompt = "x" });
        Assert.Contains("lora-qv", gone.Error(HttpStatusCode.NotFound));
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/v1/adapters/qv-copy")).StatusCode);

        // Load and delete through our own routes too.
        Assert.Equal(HttpStatusCode.Created, (await client.PostJsonAsync("/v1/load_lora_adapter", new { lora_name = "qv-again", lora_path = dir })).Status);
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync("/v1/adapters/qv-again")).StatusCode);
    }

    [Fact]
    public async Task Adapter_paths_outside_the_allowed_roots_are_refused()
    {
        var client = await server.Factory.ReadyAsync();
        var dotdot = await client.PostJsonAsync("/v1/adapters", new { name = "escape", path = Path.Combine(server.Root, "..", "..") });
        Assert.Contains("outside", dotdot.Error(HttpStatusCode.Forbidden));
        var absolute = await client.PostJsonAsync("/v1/adapters", new { name = "escape", path = "/etc" });
        absolute.Error(HttpStatusCode.Forbidden);

        var link = Path.Combine(server.Root, "link-out");
        if (!Directory.Exists(link))
        {
            Directory.CreateSymbolicLink(link, TestFixtures.ModelDir("tiny-llama"));
        }

        var viaLink = await client.PostJsonAsync("/v1/adapters", new { name = "escape", path = link });
        Assert.Contains("outside", viaLink.Error(HttpStatusCode.Forbidden));

        var fileLinkDir = Path.Combine(server.Root, "file-link");
        Directory.CreateDirectory(fileLinkDir);
        var fileLink = Path.Combine(fileLinkDir, "adapter_config.json");
        if (!File.Exists(fileLink))
        {
            File.CreateSymbolicLink(fileLink, Path.Combine(TestFixtures.ModelDir("tiny-llama"), "config.json"));
        }

        (await client.PostJsonAsync("/v1/adapters", new { name = "escape", path = fileLinkDir })).Error(HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("{\"prompt\": \"hi\", ", "invalid_json")]
    [InlineData("[1, 2]", "invalid_json")]
    [InlineData("{\"prompt\": 5}", "prompt")]
    [InlineData("{\"prompt\": \"hi\", \"max_tokens\": \"ten\"}", "max_tokens")]
    [InlineData("{\"prompt\": \"hi\", \"max_tokens\": -1}", "max_tokens")]
    [InlineData("{\"prompt\": \"hi\", \"max_tokens\": 0}", "max_tokens")]
    [InlineData("{\"prompt\": \"hi\", \"max_tokens\": 100000}", "max_tokens")]
    [InlineData("{\"prompt\": \"hi\", \"max_tokens\": 1e30}", "max_tokens")]
    [InlineData("{\"prompt\": \"hi\", \"temperature\": 7}", "temperature")]
    [InlineData("{\"prompt\": \"hi\", \"temperature\": \"hot\"}", "temperature")]
    [InlineData("{\"prompt\": \"hi\", \"stream\": 1}", "stream")]
    [InlineData("{\"prompt\": \"hi\", \"stop\": [1]}", "stop")]
    [InlineData("{\"prompt\": \"hi\", \"n\": 0}", "n")]
    [InlineData("{\"prompt\": \"hi\", \"adapters\": [{\"weight\": 1}]}", "adapters[0].name")]
    [InlineData("{\"prompt\": []}", "prompt")]
    public async Task Bad_completion_requests_are_400_naming_the_field(string json, string expected)
    {
        var client = await server.Factory.ReadyAsync();
        var r = await client.PostRawAsync("/v1/completions", json);
        var message = r.Error(HttpStatusCode.BadRequest);
        var error = r.Body.GetProperty("error");
        Assert.True(error.GetProperty("param").GetString() == expected || error.GetProperty("code").GetString() == expected, $"{expected}: {r.Body}");
        Assert.NotEmpty(message);
    }

    [Fact]
    public async Task Too_long_prompt_invalid_utf8_unknown_model_and_oversized_body()
    {
        var client = await server.Factory.ReadyAsync();
        var longPrompt = string.Join(" ", Enumerable.Repeat("hello", 400));
        Assert.Contains("context length", (await client.PostJsonAsync("/v1/completions", new { prompt = longPrompt })).Error(HttpStatusCode.BadRequest));

        using var badUtf8 = new ByteArrayContent([.. "{\"prompt\": \""u8.ToArray(), 0xC3, 0x28, .. "\"}"u8.ToArray()]);
        badUtf8.Headers.ContentType = new("application/json");
        using var response = await client.PostAsync("/v1/completions", badUtf8);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        var unknown = await client.PostJsonAsync("/v1/completions", new { model = "gpt-9", prompt = "hi" });
        var message = unknown.Error(HttpStatusCode.NotFound);
        Assert.Contains("tiny-llama", message);
        Assert.Contains("lora-qv", message);

        var huge = "{\"prompt\": \"" + new string('a', 70_000) + "\"}";
        (await client.PostRawAsync("/v1/completions", huge)).Error(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Health_and_metrics()
    {
        var client = await server.Factory.ReadyAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        await client.PostJsonAsync("/v1/completions", new { prompt = "hi", max_tokens = 2 });
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("inference_queue_depth", metrics);
        Assert.Contains("inference_tokens_generated", metrics);
    }

    public sealed class Server : IDisposable
    {
        public Server()
        {
            Root = Path.Combine(Path.GetTempPath(), "inferencehost-api-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Root);
            Factory = new ApiFactory(extra: new Dictionary<string, string?>
            {
                ["Adapters:AllowedRoots:0"] = Path.Combine(TestFixtures.ModelDir("tiny-llama"), "adapters"),
                ["Adapters:AllowedRoots:1"] = Root,
                ["Server:MaxRequestBodyBytes"] = "65536",
            });
        }

        public string Root { get; }

        public ApiFactory Factory { get; }

        public void Dispose()
        {
            Factory.Dispose();
            Directory.Delete(Root, recursive: true);
        }
    }
}
