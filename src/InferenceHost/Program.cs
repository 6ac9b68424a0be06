using InferenceHost.Cli;
using InferenceHost.Hosting;
using InferenceHost.Model.Kernels;

OpenMpSpin.Limit(); // before libtorch loads: its OpenMP threads must not spin through the decode kernels' products

if (CliCommands.TryRun(args, out var exitCode))
{
    return exitCode;
}

// Bad configuration stops the server with one clear line per problem naming the key, and exit code 1. (Only when
// it goes unhandled: under a test host the exception reaches the test instead. The host's own "Hosting failed to
// start" log comes first.)
AppDomain.CurrentDomain.UnhandledException += (_, e) =>
{
    if (e.ExceptionObject is Exception ex && ConfigurationErrors.Describe(ex) is { Count: > 0 } problems)
    {
        foreach (var problem in problems.Distinct(StringComparer.Ordinal))
        {
            Console.Error.WriteLine($"configuration error: {problem}");
        }

        Environment.Exit(1);
    }
};

var builder = WebApplication.CreateBuilder(args);
builder.AddDefaultSettingsFile();
builder.AddInferenceServices();

var app = builder.Build();
app.MapInferenceApis();
app.Run();
return 0;

public partial class Program { }
