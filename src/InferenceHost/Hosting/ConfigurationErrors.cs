using Microsoft.Extensions.Options;

namespace InferenceHost.Hosting;

/// <summary>
/// Checks the configuration before the server starts, so a bad value stops it with one line per problem naming
/// the key (a validation failure, or a value that does not convert to its key's type) instead of the host's
/// "Hosting failed to start" and a stack trace.
/// </summary>
public static class ConfigurationErrors
{
    /// <summary>Runs the options' start-up validation; false (and the problems on stderr) when the configuration is bad.</summary>
    public static bool Check(IServiceProvider services, TextWriter error)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
            return true;
        }
        catch (Exception e) when (Describe(e) is { Count: > 0 } problems)
        {
            foreach (var problem in problems.Distinct(StringComparer.Ordinal))
            {
                error.WriteLine($"configuration error: {problem}");
            }

            return false;
        }
    }

    /// <summary>The configuration problems <paramref name="e"/> stands for; empty when it is something else.</summary>
    public static IReadOnlyList<string> Describe(Exception e) => e switch
    {
        AggregateException a => a.InnerExceptions.SelectMany(Describe).ToArray(),
        OptionsValidationException v => v.Failures.ToArray(),
        // The binder's "Failed to convert configuration value 'x' at 'Key' to type 'T'." names the key; its inner
        // exception says why ("x is not a valid value for Int32").
        InvalidOperationException { InnerException: { } inner } when e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) =>
            [$"{e.Message.TrimEnd('.')}: {inner.Message}"],
        _ => [],
    };
}
