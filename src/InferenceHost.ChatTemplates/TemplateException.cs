namespace InferenceHost.ChatTemplates;

/// <summary>Any failure of a chat template: at compile time (<see cref="TemplateSyntaxException"/>) or while rendering.</summary>
public class TemplateException(string message) : Exception(message);

/// <summary>The template cannot be compiled: unsupported or malformed syntax, with its 1-based line and column.</summary>
public sealed class TemplateSyntaxException(string detail, int line, int column)
    : TemplateException($"line {line}, column {column}: {detail}")
{
    public string Detail { get; } = detail;

    public int Line { get; } = line;

    public int Column { get; } = column;
}

/// <summary>Rendering failed on the values given (an undefined attribute, a type error, ...).</summary>
public class TemplateRuntimeException(string message) : TemplateException(message);

/// <summary>The template called <c>raise_exception(message)</c>; <see cref="Exception.Message"/> is the template's own text.</summary>
public sealed class TemplateRaisedException(string message) : TemplateRuntimeException(message);
