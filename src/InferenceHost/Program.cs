using InferenceHost.Cli;
using InferenceHost.Hosting;
using Microsoft.Extensions.Options;

if (CliCommands.TryRun(args, out var exitCode))
{
    return exitCode;
}

// Bad configuration stops the server with one clear line per problem instead of a stack trace.
// (Only when it goes unhandled: under a test host the exception reaches the test instead.)
AppDomain.CurrentDomain.UnhandledException += (_, e) =>
{
    if (e.ExceptionObject is OptionsValidationException v)
    {
        Console.Error.WriteLine($"configuration error: {string.Join("; ", v.Failures)}");
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
