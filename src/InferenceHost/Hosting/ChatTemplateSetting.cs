using InferenceHost.ChatTemplates;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Tokenization;

namespace InferenceHost.Hosting;

/// <summary>
/// Where the <c>ChatTemplate</c> setting points: <c>auto</c> (the checkpoint's own template, else <c>plain</c>
/// with a warning), a built-in name, a template file, or an inline template (any text holding <c>{{</c> or
/// <c>{%</c>).
/// </summary>
/// <param name="Source">The Jinja text.</param>
/// <param name="Origin">Where it came from, for logs and errors (a file, "built-in llama2", "inline").</param>
/// <param name="IsBuiltIn">Built-ins leave BOS to the tokenizer, as completions do; other templates write the whole prompt.</param>
/// <param name="Warning">Set when <c>auto</c> found no template in the checkpoint.</param>
public sealed record ChatTemplateChoice(string Source, string Origin, bool IsBuiltIn, string? Warning = null)
{
    /// <summary>Compiles it; a syntax error names <see cref="Origin"/>, line and column.</summary>
    public JinjaTemplate Compile()
    {
        try
        {
            return JinjaTemplate.Compile(Source);
        }
        catch (TemplateSyntaxException e)
        {
            throw new InvalidOperationException($"{Origin}: {e.Message}", e);
        }
    }
}

/// <summary>The built-in chat templates and how the <c>ChatTemplate</c> setting is resolved.</summary>
public static class ChatTemplateSetting
{
    public const string Auto = "auto";

    public static IReadOnlyList<string> Names { get; } = ["llama2", "chatml", "zephyr", "plain"];

    // Llama 2 chat as Meta's template renders it: system messages in a <<SYS>> block of the first turn, every
    // answer closed with EOS and every later turn reopened with BOS; the first BOS comes from the tokenizer.
    private const string Llama2 = """
        {%- set ns = namespace(system='', first=true) -%}
        {%- for m in messages if m.role == 'system' -%}
            {%- set ns.system = ns.system ~ ('\n' if not loop.first else '') ~ m.content -%}
        {%- endfor -%}
        {%- for m in messages if m.role != 'system' -%}
            {%- if m.role == 'assistant' -%}
                {{- ' ' ~ m.content | trim ~ ' ' ~ eos_token -}}
            {%- else -%}
                {%- set content = ('<<SYS>>\n' ~ ns.system ~ '\n<</SYS>>\n\n' ~ m.content) if ns.first and ns.system else m.content -%}
                {{- ('' if ns.first else bos_token) ~ '[INST] ' ~ content | trim ~ ' [/INST]' -}}
                {%- set ns.first = false -%}
            {%- endif -%}
        {%- endfor -%}
        """;

    private const string ChatMl = """
        {%- for m in messages %}{{ '<|im_start|>' ~ m.role ~ '\n' ~ m.content ~ '<|im_end|>\n' }}{% endfor -%}
        {%- if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif -%}
        """;

    private const string Zephyr = """
        {%- for m in messages %}{{ '<|' ~ m.role ~ '|>\n' ~ m.content ~ '</s>\n' }}{% endfor -%}
        {%- if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif -%}
        """;

    private const string Plain = """
        {%- for m in messages %}{{ m.role ~ ': ' ~ m.content ~ '\n' }}{% endfor -%}
        {%- if add_generation_prompt %}assistant:{% endif -%}
        """;

    public static string BuiltIn(string name) => name switch
    {
        "llama2" => Llama2,
        "chatml" => ChatMl,
        "zephyr" => Zephyr,
        "plain" => Plain,
        _ => throw new ArgumentException($"unknown built-in chat template '{name}'", nameof(name)),
    };

    /// <summary>
    /// Resolves the setting for a checkpoint in <paramref name="modelDir"/> (null while it is not known yet,
    /// as for the demo model before it is written). Bad values are InvalidOperationExceptions naming what is wrong.
    /// </summary>
    public static ChatTemplateChoice Resolve(string setting, string? modelDir)
    {
        if (setting == Auto)
        {
            CheckpointChatTemplate? own;
            try
            {
                own = modelDir is null ? null : ChatTemplateConfig.Load(modelDir).Template;
            }
            catch (CheckpointException e)
            {
                throw new InvalidOperationException(e.Message, e);
            }

            return own is not null
                ? new ChatTemplateChoice(own.Source, own.File, IsBuiltIn: false)
                : new ChatTemplateChoice(Plain, "built-in plain", IsBuiltIn: true,
                    $"the checkpoint has no chat template (no {ChatTemplateConfig.JinjaFile}, no chat_template in {TokenizerConfig.FileName}): " +
                    "chat requests use the built-in 'plain' template; set ChatTemplate to a built-in, a file or an inline template");
        }

        if (Names.Contains(setting))
        {
            return new ChatTemplateChoice(BuiltIn(setting), $"built-in {setting}", IsBuiltIn: true);
        }

        if (setting.Contains("{{", StringComparison.Ordinal) || setting.Contains("{%", StringComparison.Ordinal))
        {
            return new ChatTemplateChoice(setting, "inline template", IsBuiltIn: false);
        }

        if (setting.Length > 0 && File.Exists(setting))
        {
            return new ChatTemplateChoice(File.ReadAllText(setting), Path.GetFullPath(setting), IsBuiltIn: false);
        }

        throw new InvalidOperationException(
            $"'{setting}' is not {Auto}, one of {string.Join(", ", Names)}, an existing template file or an inline template");
    }
}
