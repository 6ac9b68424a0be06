namespace InferenceHost.ChatTemplates.Tests;

/// <summary>Damaged templates fail with a TemplateException (compile or render), never with anything else.</summary>
public sealed class MutationTests
{
    private const string Vars = """
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "v"}],
         "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": true, "tools": null}
        """;

    [Theory]
    [InlineData("qwen3.jinja")]
    [InlineData("mistral-nemo-instruct-2407.jinja")]
    [InlineData("gemma3.jinja")]
    [InlineData("llama2-chat.jinja")]
    public void Deleting_or_duplicating_characters_gives_only_template_exceptions(string file)
    {
        var source = Render.Source(file);
        var random = new Random(1234);
        for (int i = 0; i < 120; i++)
        {
            int at = random.Next(source.Length), length = random.Next(1, 6);
            var mutated = i % 2 == 0
                ? source.Remove(at, Math.Min(length, source.Length - at))
                : source.Insert(at, source.Substring(at, Math.Min(length, source.Length - at)));
            var e = Record.Exception(() => Render.Of(mutated, Vars));
            Assert.True(e is null or TemplateException, $"{file} mutation {i} at {at}: {e?.GetType().Name}: {e?.Message}");
        }
    }
}
