using InferenceHost.LoadTests.Cli;
using InferenceHost.LoadTests.Runner;
using InferenceHost.LoadTests.Scenarios;

namespace InferenceHost.LoadTests;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        return await RunAsync(args, Console.Out, Console.Error, cts.Token);
    }

    /// <summary>Exit codes: 0 done, 1 the run failed, 2 bad options.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h" || args.Contains("--help"))
        {
            stdout.Write(Help.Text);
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            OptionBag options = OptionBag.FromArgs(args[1..]);
            switch (args[0])
            {
                case "run":
                {
                    RunOptions run = RunOptions.Parse(options);
                    options.ThrowOnUnknown("run");
                    await RunCommand.RunAsync(run, stdout, ct);
                    return 0;
                }
                case "scenarios":
                {
                    string file = options.GetString("file") ?? throw new OptionException("scenarios needs --file FILE.json.");
                    string outDir = options.GetString("out", "results");
                    bool dryRun = options.GetBool("dry-run");
                    var overrides = new OptionBag(options.Values.Where(kv => kv.Key is not ("file" or "out" or "dry-run")));
                    if (overrides.Has("url") && !overrides.Has("start-server"))
                        overrides = overrides.With(new OptionBag([new("start-server", "false")])); // --url replaces the file's server
                    await ScenarioRunner.RunAsync(ScenarioFile.Load(file), overrides, outDir, dryRun, stdout, ct);
                    return 0;
                }
                default:
                    throw new OptionException($"Unknown command '{args[0]}': use 'run', 'scenarios' or 'help'.");
            }
        }
        catch (OptionException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            stderr.WriteLine("cancelled");
            return 1;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException
                                       or System.ComponentModel.Win32Exception or UnauthorizedAccessException
                                       or System.Text.Json.JsonException or HttpRequestException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
