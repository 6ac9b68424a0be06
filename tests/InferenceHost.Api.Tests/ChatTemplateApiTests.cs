using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using InferenceHost.Model.Tokenization;
using InferenceHost.Tests.Shared;
using Microsoft.Extensions.Options;

namespace InferenceHost.Api.Tests;

/// <summary>
/// Chat through the model's own or a configured Jinja template, end to end over tiny-llama: the prompt ids,
/// BOS and special tokens, a template's raise_exception as a 400, return_token_ids, end-of-turn ids from
/// generation_config.json, and start-up failures that name line and column.
/// </summary>
public sealed class ChatTemplateApiTests(ChatTemplateApiTests.Llama2Server llama2) : IClassFixture<ChatTemplateApiTests.Llama2Server>
{
    private static readonly object[] Conversation =
    [
        new { role = "system", content = "Be brief." }, new { role = "user", content = "Hi" },
        new { role = "assistant", content = "Hello!" }, new { role = "user", content = "Bye" },
    ];

    // Llama 2's own template (tests/InferenceHost.ChatTemplates.Tests/Templates/README.md names its source).
    private static string Llama2TemplateFile => Path.Combine(TestFixtures.RepoRoot, "tests", "InferenceHost.ChatTemplates.Tests", "Templates", "llama2-chat.jinja");

    private static ITextTokenizer Tokenizer { get; } = TokenizerLoader.Load(TestFixtures.ModelDir("tiny-llama"));

    private static ApiFactory Factory(string chatTemplate, string? modelDir = null)
    {
        var settings = new Dictionary<string, string?> { ["ChatTemplate"] = chatTemplate };
        if (modelDir is not null)
        {
            settings["Model:Path"] = modelDir;
        }

        return new ApiFactory(extra: settings);
    }

    private static async Task<JsonElement> ChatAsync(HttpClient client, object[] messages, int maxTokens = 3, bool ignoreEos = true)
    {
        var (status, body) = await client.PostJsonAsync("/v1/chat/completions", new { messages, max_tokens = maxTokens, temperature = 0, ignore_eos = ignoreEos, return_token_ids = true });
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    [Fact]
    public async Task The_model_template_writes_bos_and_eos_as_single_ids_and_the_tokenizer_adds_no_second_bos()
    {
        var body = await ChatAsync(await llama2.Factory.ReadyAsync(), Conversation);
        const string Expected = "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]";
        var ids = body.GetProperty("prompt_token_ids").Ints();
        Assert.Equal(Tokenizer.Encode(Expected, addSpecialTokens: false), ids);
        Assert.Equal(1, ids[0]);
        Assert.Equal(2, ids.Count(i => i == 1)); // two BOS, both written by the template
        Assert.Single(ids, i => i == 2);         // one EOS, closing the first exchange
    }

    [Fact]
    public async Task The_llama2_built_in_closes_and_reopens_turns_as_llama2_does()
    {
        await using var factory = Factory("llama2");
        var body = await ChatAsync(await factory.ReadyAsync(), Conversation);
        // the first BOS is the tokenizer's (add_bos_token), the second the template's
        const string Expected = "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]";
        var ids = body.GetProperty("prompt_token_ids").Ints();
        Assert.Equal(Tokenizer.Encode(Expected, addSpecialTokens: true), ids);
        Assert.Equal(2, ids.Count(i => i == 1));
    }

    [Fact]
    public async Task A_template_that_raises_is_a_400_with_its_message()
    {
        var client = await llama2.Factory.ReadyAsync();
        object[] twoUsers = [new { role = "user", content = "a" }, new { role = "user", content = "b" }];
        var message = (await client.PostJsonAsync("/v1/chat/completions", new { messages = twoUsers, max_tokens = 2 })).Error(HttpStatusCode.BadRequest);
        Assert.Equal("Conversation roles must alternate user/assistant/user/assistant/...", message);

        // The server is unharmed: the next request renders.
        await ChatAsync(client, [new { role = "user", content = "a" }]);
    }

    [Fact]
    public async Task Return_token_ids_gives_prompt_and_choice_ids_streamed_or_not()
    {
        await using var factory = Factory("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:");
        var client = await factory.ReadyAsync();
        object[] messages = [new { role = "user", content = "Hello there" }];
        var body = await ChatAsync(client, messages, maxTokens: 4);
        Assert.Equal(Tokenizer.Encode("user: Hello there\nassistant:", addSpecialTokens: false), body.GetProperty("prompt_token_ids").Ints());
        var tokenIds = body.GetProperty("choices")[0].GetProperty("token_ids").Ints();
        Assert.Equal(4, tokenIds.Length);
        Assert.Equal(Tokenizer.Decode(tokenIds), body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());

        using var response = await client.PostAsJsonAsync("/v1/chat/completions", new { messages, max_tokens = 4, temperature = 0, ignore_eos = true, return_token_ids = true, stream = true });
        var chunks = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[..^1]
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices")[0]).ToArray();
        var streamed = chunks.Where(c => c.TryGetProperty("token_ids", out _)).SelectMany(c => c.GetProperty("token_ids").Ints());
        Assert.Equal(tokenIds, streamed);
    }

    [Fact]
    public async Task Auto_uses_the_checkpoints_template_and_stops_on_generation_config_eos_without_showing_it()
    {
        // A Zephyr-style template in tokenizer_config.json: the checkpoint's own, picked by the default (auto).
        const string Zephyr = "{% for m in messages %}{{ '<|' + m.role + '|>\\n' + m.content + eos_token + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";
        using var dir = new CheckpointCopy(Zephyr);
        object[] messages = [new { role = "user", content = "Hello" }];
        int first;
        await using (var factory = new ApiFactory(extra: new Dictionary<string, string?> { ["Model:Path"] = dir.Path }))
        {
            var body = await ChatAsync(await factory.ReadyAsync(), messages);
            Assert.Equal(Tokenizer.Encode("<|user|>\nHello</s>\n<|assistant|>\n", addSpecialTokens: false), body.GetProperty("prompt_token_ids").Ints());
            first = body.GetProperty("choices")[0].GetProperty("token_ids")[0].GetInt32();
            Assert.NotEqual(Tokenizer.EosId, first); // else the second half would prove nothing
        }

        // The greedy first token becomes an end-of-turn id (as Llama 3 Instruct lists <|eot_id|> there): the
        // answer stops at once, the id is reported and its text is not shown.
        dir.WriteGenerationConfig(first);
        await using (var factory = new ApiFactory(extra: new Dictionary<string, string?> { ["Model:Path"] = dir.Path }))
        {
            var choice = (await ChatAsync(await factory.ReadyAsync(), messages, maxTokens: 5, ignoreEos: false)).GetProperty("choices")[0];
            Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
            Assert.Equal([first], choice.GetProperty("token_ids").Ints());
            Assert.Equal(string.Empty, choice.GetProperty("message").GetProperty("content").GetString());
        }
    }

    [Theory]
    [InlineData("inline", "{% if %}", "inline template: line 1, column 7: expected an expression, found '%}'")]
    [InlineData("file", "ok\n{{ messages | nosuch }}", "line 2, column 15: the filter 'nosuch' is not supported")]
    [InlineData("auto", "{% for m in messages %}{{ m.content.splitlines_all() }}{% endfor %}", "tokenizer_config.json: line 1, column 36: the method 'splitlines_all' is not supported")]
    [InlineData("auto", "{% for m in messages %}", "tokenizer_config.json: line 1, column 24: expected '{% else %}' or '{% endfor %}'")]
    public void A_bad_template_fails_start_up_naming_line_and_column(string kind, string template, string expected)
    {
        using var dir = new CheckpointCopy(kind == "auto" ? template : null);
        var file = Path.Combine(dir.Path, "bad.jinja");
        File.WriteAllText(file, template);
        var setting = kind switch { "inline" => template, "file" => file, _ => "auto" };
        using var factory = Factory(setting, kind == "auto" ? dir.Path : null);
        var e = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var validation = e as OptionsValidationException ?? e.InnerException as OptionsValidationException;
        Assert.NotNull(validation);
        Assert.Contains("ChatTemplate: ", validation.Message);
        Assert.Contains(expected, validation.Message);
        if (kind == "file")
        {
            Assert.Contains(file, validation.Message);
        }
    }

    /// <summary>One server with Llama 2's own template configured as a file, shared by the tests that need it.</summary>
    public sealed class Llama2Server : IDisposable
    {
        public ApiFactory Factory { get; } = ChatTemplateApiTests.Factory(Llama2TemplateFile);

        public void Dispose() => Factory.Dispose();
    }

    /// <summary>tiny-llama's files linked into a scratch directory, with a tokenizer_config.json carrying a chat template.</summary>
    private sealed class CheckpointCopy : IDisposable
    {
        public CheckpointCopy(string? chatTemplate)
        {
            var fixture = TestFixtures.ModelDir("tiny-llama");
            foreach (var name in new[] { "config.json", "model.safetensors", "tokenizer.model" })
            {
                File.CreateSymbolicLink(System.IO.Path.Combine(Path, name), System.IO.Path.Combine(fixture, name));
            }

            var config = JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(fixture, "tokenizer_config.json")))!.AsObject();
            if (chatTemplate is not null)
            {
                config["chat_template"] = chatTemplate;
            }

            File.WriteAllText(System.IO.Path.Combine(Path, "tokenizer_config.json"), config.ToJsonString());
        }

        public string Path { get; } = Directory.CreateTempSubdirectory("inferencehost-chat-template").FullName;

        public void WriteGenerationConfig(params int[] eos) =>
            File.WriteAllText(System.IO.Path.Combine(Path, "generation_config.json"), JsonSerializer.Serialize(new { eos_token_id = eos }));

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
