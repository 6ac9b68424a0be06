using InferenceHost.Cli;
using InferenceHost.Hosting;

if (CliCommands.TryRun(args, out var exitCode))
{
    return exitCode;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddDefaultSettingsFile();
builder.AddInferenceServices();

var app = builder.Build();
if (!ConfigurationErrors.Check(app.Services, Console.Error))
{
    return 1;
}

app.MapInferenceApis();
app.Run();
return 0;

public partial class Program { }
