using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Chat;

namespace InferenceHost.Api.Tests;

/// <summary>Keys (401/403), start-up validation, and the official OpenAI .NET client against Kestrel on loopback.</summary>
public sealed class AuthAndClientTests
{
    private static readonly Dictionary<string, string?> Keys = new()
    {
        ["Auth:ApiKeys:0"] = "user-key",
        ["Auth:AdminKeys:0"] = "admin-key",
    };

    [Fact]
    public async Task Keys_are_required_and_admin_routes_need_an_admin_key()
    {
        await using var factory = new ApiFactory(extra: Keys);
        var anonymous = await factory.ReadyAsync();
        (await anonymous.PostJsonAsync("/v1/completions", new { prompt = "hi", max_tokens = 1 })).Error(HttpStatusCode.Unauthorized);

        var wrong = await factory.ReadyAsync("user-kez");
        (await wrong.PostJsonAsync("/v1/completions", new { prompt = "hi", max_tokens = 1 })).Error(HttpStatusCode.Unauthorized);

        var user = await factory.ReadyAsync("user-key");
        Assert.Equal(HttpStatusCode.OK, (await user.PostJsonAsync("/v1/completions", new { prompt = "hi", max_tokens = 1 })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/v1/adapters")).StatusCode);
        (await user.PostJsonAsync("/v1/load_lora_adapter", new { lora_name = "x", lora_path = "/tmp" })).Error(HttpStatusCode.Forbidden);

        var admin = await factory.ReadyAsync("admin-key");
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/adapters")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostJsonAsync("/v1/completions", new { prompt = "hi", max_tokens = 1 })).Status);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task A_401_says_Bearer_and_metrics_can_be_put_behind_the_keys()
    {
        await using var open = new ApiFactory(extra: Keys);
        var anonymous = await open.ReadyAsync();
        var denied = await anonymous.PostAsJsonAsync("/v1/completions", new { prompt = "hi", max_tokens = 1 });
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        Assert.Equal("Bearer", denied.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/metrics")).StatusCode); // the default: scrapers work unchanged

        await using var guarded = new ApiFactory(extra: new Dictionary<string, string?>(Keys) { ["Auth:ProtectMetrics"] = "true" });
        var metrics = await (await guarded.ReadyAsync()).GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
        Assert.Equal("Bearer", metrics.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.OK, (await (await guarded.ReadyAsync("user-key")).GetAsync("/metrics")).StatusCode);
    }

    [Theory]
    [InlineData("Lora:Mode", "sideways")]
    [InlineData("Model:DType", "float8")]
    [InlineData("ChatTemplate", "jinja")]
    [InlineData("Engine:MaxBatchSize", "0")]
    [InlineData("Model:Device", "cuda")]
    [InlineData("Model:Quantization", "int4")]
    public void Bad_configuration_fails_at_start_up_naming_the_key(string key, string value)
    {
        if (key == "Model:Device" && TorchSharp.torch.cuda.is_available())
        {
            return; // only an error where CUDA is missing
        }

        using var factory = new ApiFactory(extra: new Dictionary<string, string?> { [key] = value });
        var e = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var validation = e as OptionsValidationException ?? e.InnerException as OptionsValidationException;
        Assert.NotNull(validation);
        Assert.Contains(key.Split(':')[^1], validation.Message);
    }

    [Fact]
    public void Merged_mode_on_a_quantized_base_fails_at_start_up_naming_both_keys()
    {
        using var factory = new ApiFactory(extra: new Dictionary<string, string?> { ["Model:Quantization"] = "nf4", ["Lora:Mode"] = "merged" });
        var e = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var validation = e as OptionsValidationException ?? e.InnerException as OptionsValidationException;
        Assert.NotNull(validation);
        Assert.Contains("Lora:Mode", validation.Message);
        Assert.Contains("Model:Quantization is 'nf4'", validation.Message);
    }

    [Fact]
    public async Task A_model_that_fails_to_load_keeps_readiness_at_503_and_generation_at_503()
    {
        var empty = Directory.CreateTempSubdirectory("inferencehost-empty-model").FullName;
        try
        {
            await using var factory = new ApiFactory(extra: new Dictionary<string, string?> { ["Model:Path"] = empty });
            var client = factory.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
            await Task.Delay(300);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
            (await client.PostJsonAsync("/v1/completions", new { prompt = "hi" })).Error(HttpStatusCode.ServiceUnavailable);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public async Task The_official_OpenAI_client_works_against_the_server_on_loopback()
    {
        await using var factory = new ApiFactory(extra: Keys);
        var url = await factory.StartOnLoopbackAsync();

        var options = new OpenAIClientOptions { Endpoint = new Uri($"{url}/v1") };
        var chat = new ChatClient("lora-qv", new ApiKeyCredential("user-key"), options);
        var completion = await chat.CompleteChatAsync([new UserChatMessage("Hello there")], new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0 });
        Assert.Equal(ChatMessageRole.Assistant, completion.Value.Role);
        Assert.True(completion.Value.Usage.OutputTokenCount is > 0 and <= 4);

        var streamed = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hello there")], new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0 }))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(completion.Value.Content[0].Text, streamed.ToString());
        Assert.NotNull(finish);

        var models = await new OpenAI.Models.OpenAIModelClient(new ApiKeyCredential("user-key"), options).GetModelsAsync();
        Assert.Contains(models.Value, m => m.Id == "tiny-llama");
        Assert.Contains(models.Value, m => m.Id == "lora-qv");

        var denied = await Assert.ThrowsAsync<ClientResultException>(() => new ChatClient("tiny-llama", new ApiKeyCredential("nope"), options).CompleteChatAsync([new UserChatMessage("x")]));
        Assert.Equal(401, denied.Status);
    }
}
