using InferenceHost.CommandLine;
using InferenceHost.Tools;

namespace InferenceHost.Cli;

/// <summary>The command-line verbs (the tools, and healthcheck); anything else starts the HTTP server.</summary>
public static class CliCommands
{
    private static readonly IReadOnlyList<CliVerb> Verbs = [.. ToolVerbs.All, HealthcheckCommand.Verb];

    public static bool TryRun(string[] args, out int exitCode)
    {
        exitCode = 0;
        if (args.Length == 0 || !Verbs.Any(v => v.Name == args[0]))
        {
            return false;
        }

        exitCode = CliVerb.Invoke("InferenceHost: the server (no verb) and its tools.", Verbs, args, ToolVerbs.IsUserError);
        return true;
    }
}
