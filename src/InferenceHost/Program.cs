using InferenceHost.Cli;
using InferenceHost.Hosting;

if (CliCommands.TryRun(args, out var exitCode))
{
    return exitCode;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddInferenceServices();

var app = builder.Build();
app.MapInferenceApis();
app.Run();
return 0;

public partial class Program { }
