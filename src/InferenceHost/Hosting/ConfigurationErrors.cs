using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace InferenceHost.Hosting;

/// <summary>
/// Turns what a bad configuration throws at start-up (a validation failure, <c>ValidateOnStart</c>'s aggregate of
/// them, or a value that does not convert to its key's type) into one line per problem naming the key.
/// </summary>
public static partial class ConfigurationErrors
{
    /// <summary>The configuration problems <paramref name="e"/> stands for; empty when it is something else.</summary>
    public static IReadOnlyList<string> Describe(Exception e) => e switch
    {
        AggregateException a => a.InnerExceptions.SelectMany(Describe).ToArray(),
        OptionsValidationException v => v.Failures.Select(f => NameTheKey(f, v.OptionsType)).ToArray(),
        // The binder's "Failed to convert configuration value 'x' at 'Key' to type 'T'." names the key; its inner
        // exception says why ("x is not a valid value for Int32").
        InvalidOperationException { InnerException: { } inner } when e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) =>
            [$"{e.Message.TrimEnd('.')}: {inner.Message}"],
        _ => [],
    };

    // DataAnnotations say "DataAnnotation validation failed for 'EngineHostOptions' members: 'MaxBatchSize' with the
    // error: '…'."; the user wrote Engine:MaxBatchSize (the options class's Section constant and the member's path).
    private static string NameTheKey(string failure, Type options)
    {
        var m = DataAnnotationFailure().Match(failure);
        return m.Success && options.GetField("Section")?.GetRawConstantValue() is string section
            ? $"{section}:{m.Groups["member"].Value.Replace('.', ':')}: {m.Groups["error"].Value}"
            : failure;
    }

    [GeneratedRegex(@"^DataAnnotation validation failed for '[^']*' members: '(?<member>[^']+)' with the error: '(?<error>.*)'\.$", RegexOptions.Singleline)]
    private static partial Regex DataAnnotationFailure();
}
