namespace InferenceHost.ChatTemplates;

/// <summary>
/// A compiled chat template: the Jinja subset Hugging Face chat templates use, rendered as transformers'
/// <c>apply_chat_template</c> does (<c>trim_blocks</c>, <c>lstrip_blocks</c>, <c>raise_exception</c>,
/// <c>strftime_now</c>, its <c>tojson</c>). See docs/chat-templates.md for what is supported.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly IReadOnlyList<Stmt> body;

    private JinjaTemplate(string source, IReadOnlyList<Stmt> body)
    {
        Source = source;
        this.body = body;
    }

    public string Source { get; }

    /// <summary>Parses and checks the template; unsupported or malformed syntax is a <see cref="TemplateSyntaxException"/> with line and column.</summary>
    public static JinjaTemplate Compile(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new JinjaTemplate(source, Parser.Parse(source));
    }

    /// <summary>
    /// Renders with <paramref name="variables"/>: strings, booleans, numbers, null, lists and string-keyed
    /// dictionaries (or <see cref="System.Text.Json.JsonElement"/>s). A <see cref="TemplateRaisedException"/> carries
    /// the template's own message; other failures are <see cref="TemplateRuntimeException"/>s.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> variables, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(variables);
        clock ??= TimeProvider.System;
        var globals = new Scope(null);
        Globals.AddTo(globals, clock);
        var vars = new Scope(globals);
        foreach (var (name, value) in variables)
        {
            vars.Set(name, Import.Value(value));
        }

        try
        {
            return new Renderer(clock).Render(body, new Scope(vars));
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or OverflowException or FormatException)
        {
            // A value the template misuses in a way the checks above did not name: still the template's failure.
            throw new TemplateRuntimeException($"the template failed on these values: {e.Message}");
        }
    }
}
