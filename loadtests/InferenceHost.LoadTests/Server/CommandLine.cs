using System.Text;
using InferenceHost.LoadTests.Cli;

namespace InferenceHost.LoadTests.Server;

/// <summary>Splits a command line into arguments (double or single quotes group; no shell expansion).</summary>
public static class CommandLine
{
    public static List<string> Split(string commandLine)
    {
        var args = new List<string>();
        var current = new StringBuilder();
        bool inArg = false;
        char quote = '\0';
        foreach (char c in commandLine)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else current.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inArg = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inArg) { args.Add(current.ToString()); current.Clear(); inArg = false; }
            }
            else
            {
                current.Append(c);
                inArg = true;
            }
        }
        if (quote != '\0')
            throw new OptionException($"Unterminated quote in command line: {commandLine}");
        if (inArg)
            args.Add(current.ToString());
        if (args.Count == 0)
            throw new OptionException("Empty command line.");
        return args;
    }

    /// <summary>Replaces {model}, {adapters}, {mode} and {port} in a command template.</summary>
    public static string Expand(string template, RunOptions o, int port)
        => template.Replace("{model}", o.ModelDir, StringComparison.Ordinal)
            .Replace("{adapters}", o.AdaptersDir, StringComparison.Ordinal)
            .Replace("{mode}", o.LoraMode, StringComparison.Ordinal)
            .Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
