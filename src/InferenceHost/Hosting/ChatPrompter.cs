using InferenceHost.Apis;
using InferenceHost.ChatTemplates;
using InferenceHost.Model.Tokenization;

namespace InferenceHost.Hosting;

public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// Turns chat messages into prompt ids with the served model's template, as transformers'
/// <c>apply_chat_template</c> does: variables <c>messages</c>, <c>add_generation_prompt</c> (true),
/// <c>tools</c> and <c>documents</c> (none) and the checkpoint's special-token strings; the text is tokenized
/// with added and special tokens matched as single ids and, for templates other than the built-ins, without a
/// BOS of the tokenizer's own (<c>add_special_tokens=False</c>), so a template that writes BOS gets exactly one.
/// </summary>
public sealed class ChatPrompter
{
    private readonly JinjaTemplate template;
    private readonly IReadOnlyDictionary<string, object> specialTokens;
    private readonly ITextTokenizer tokenizer;
    private readonly bool addSpecialTokens;

    public ChatPrompter(ChatTemplateChoice choice, string modelDir, ITextTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(choice);
        template = choice.Compile();
        Origin = choice.Origin;
        specialTokens = ChatTemplateConfig.Load(modelDir).SpecialTokens;
        this.tokenizer = tokenizer;
        addSpecialTokens = choice.IsBuiltIn;
    }

    /// <summary>Where the template came from (a file, "built-in llama2", "inline template").</summary>
    public string Origin { get; }

    /// <summary>
    /// Renders and tokenizes; the template's <c>raise_exception</c> (or any other failure of the template on these
    /// messages) is a 400 carrying the template's message.
    /// </summary>
    public (string Text, IReadOnlyList<int> Ids) Render(IReadOnlyList<ChatMessage> messages)
    {
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = messages.Select(m => new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content }).ToList(),
            ["add_generation_prompt"] = true,
            ["tools"] = null,
            ["documents"] = null,
        };
        foreach (var (name, value) in specialTokens)
        {
            variables[name] = value;
        }

        string text;
        try
        {
            text = template.Render(variables);
        }
        catch (TemplateRaisedException e)
        {
            throw ApiException.BadRequest(e.Message, "messages", "chat_template_error");
        }
        catch (TemplateRuntimeException e)
        {
            throw ApiException.BadRequest($"the chat template ({Origin}) cannot render these messages: {e.Message}", "messages", "chat_template_error");
        }

        return (text, tokenizer.Encode(text, addSpecialTokens));
    }
}
