using System.Net;
using InferenceHost.Hosting;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Api.Tests;

/// <summary>
/// With <c>Model:Path</c> empty the server serves the repository's <c>models/default</c> (copied beside the
/// server by the build): a trained model, so held-out dialogue text is far from the 4,096-way guess a
/// random model makes.
/// </summary>
public sealed class DefaultModelTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("default-model-tests-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    // Written for this test in DialogSum's style (not taken from the data set), so it is held out.
    private const string Dialogue =
        "#Person1#: Good morning. Can I help you?\n" +
        "#Person2#: Yes, I'd like to open a savings account, please.\n" +
        "#Person1#: Certainly. Do you have your passport with you?\n" +
        "#Person2#: Here it is. How much do I need to deposit?\n" +
        "#Person1#: At least fifty dollars. Please fill in this form first.";

    [Fact]
    public void The_build_copies_the_default_model_beside_the_server()
    {
        Assert.Equal(DefaultModel.Directory, DefaultModel.Locate());
    }

    [Fact]
    public void A_build_without_it_is_a_start_up_error_that_names_what_is_missing()
    {
        File.WriteAllText(Path.Combine(temp, "config.json"), "{}");
        var e = Assert.Throws<InvalidOperationException>(() => DefaultModel.Locate(temp));
        Assert.Contains("model.safetensors, tokenizer.json", e.Message);
        Assert.Contains("Model:Path", e.Message);
    }

    [Fact]
    public async Task Empty_model_path_serves_the_trained_default_model()
    {
        await using var factory = new ApiFactory(extra: new Dictionary<string, string?>
        {
            ["Model:Path"] = "",
            ["Adapters:Directory"] = temp,
        });
        using var client = await factory.ReadyAsync();

        var models = await Http.ReadAsync(await client.GetAsync("/v1/models"));
        Assert.Contains(models.GetProperty("data").EnumerateArray(), m => m.GetProperty("id").GetString() == "default");

        // echo + logprobs scores the prompt itself: its perplexity under the model.
        var (status, body) = await client.PostJsonAsync("/v1/completions",
            new { model = "default", prompt = Dialogue, max_tokens = 24, temperature = 0, logprobs = 1, echo = true, ignore_eos = true });
        Assert.Equal(HttpStatusCode.OK, status);
        var logprobs = body.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("token_logprobs")
            .EnumerateArray().Where(x => x.ValueKind == System.Text.Json.JsonValueKind.Number).Select(x => x.GetDouble()).ToArray();
        var generated = body.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        var prompt = logprobs[..^generated];
        var perplexity = Math.Exp(-prompt.Average());
        Assert.True(perplexity < 60, $"held-out dialogue perplexity {perplexity:F1} (a random model: about 4,096)");

        // Its greedy continuation goes on as a dialogue: a new speaker turn.
        var text = body.GetProperty("choices")[0].GetProperty("text").GetString()!;
        Assert.Contains("#Person", text[Dialogue.Length..]);
    }

    [Fact]
    public async Task The_shipped_loras_summarize_and_name_the_topic_where_the_base_goes_on_with_the_dialogue()
    {
        await using var factory = new ApiFactory(extra: new Dictionary<string, string?>
        {
            ["Model:Path"] = "",
            ["Adapters:Directory"] = Path.Combine(TestFixtures.RepoRoot, "adapters"),
        });
        using var client = await factory.ReadyAsync();

        // Its card, as the trainer's eval wrote it: ROUGE-L on the validation dialogues, above the base's.
        var models = await Http.ReadAsync(await client.GetAsync("/v1/models"));
        System.Text.Json.JsonElement Card(string id) =>
            models.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("id").GetString() == id).GetProperty("evaluation");
        var card = Card("dialogsum-lora");
        Assert.Equal("rougeL", card.GetProperty("metric").GetString());
        Assert.True(card.GetProperty("score").GetDouble() > 2 * card.GetProperty("base_score").GetDouble());

        // Phrasing 0 of the dialogue-summary template, which it was trained with, on the held-out dialogue above:
        // the base continues the conversation with a speaker turn ("#Person1#: ..."); the LoRA writes a summary,
        // which names the speakers without opening a turn.
        var prompt = $"Summarize this dialogue:\n{Dialogue}\nSummary:\n";
        string Text(System.Text.Json.JsonElement body) => body.GetProperty("choices")[0].GetProperty("text").GetString()!;
        var (baseStatus, baseBody) = await client.PostJsonAsync("/v1/completions", new { model = "default", prompt, max_tokens = 32, temperature = 0 });
        var (loraStatus, loraBody) = await client.PostJsonAsync("/v1/completions", new { model = "dialogsum-lora", prompt, max_tokens = 32, temperature = 0 });
        Assert.Equal(HttpStatusCode.OK, baseStatus);
        Assert.Equal(HttpStatusCode.OK, loraStatus);
        Assert.Matches(@"#Person\d#:", Text(baseBody));
        Assert.DoesNotMatch(@"#Person\d#:", Text(loraBody));
        Assert.Contains("#Person", Text(loraBody));

        // The topic LoRA, with phrasing 0 of dialogue-topic: its card scores exact match on the validation topics,
        // above the base's; it names a topic in a few words and stops, where the base opens a speaker turn.
        var topicCard = Card("topic-lora");
        Assert.Equal("exact_match", topicCard.GetProperty("metric").GetString());
        Assert.True(topicCard.GetProperty("score").GetDouble() > topicCard.GetProperty("base_score").GetDouble());
        var topicPrompt = $"What is the topic of this dialogue?\n{Dialogue}\nTopic:\n";
        var (topicBaseStatus, topicBaseBody) = await client.PostJsonAsync("/v1/completions", new { model = "default", prompt = topicPrompt, max_tokens = 16, temperature = 0 });
        var (topicStatus, topicBody) = await client.PostJsonAsync("/v1/completions", new { model = "topic-lora", prompt = topicPrompt, max_tokens = 16, temperature = 0 });
        Assert.Equal(HttpStatusCode.OK, topicBaseStatus);
        Assert.Equal(HttpStatusCode.OK, topicStatus);
        Assert.Matches(@"#Person\d#:", Text(topicBaseBody));
        var topic = Text(topicBody).Trim();
        Assert.Equal("stop", topicBody.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.DoesNotContain("#Person", topic);
        Assert.InRange(topic.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length, 1, 6);
    }
}
