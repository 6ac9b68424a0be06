using System.CommandLine;
using InferenceHost.Fuzz.Cli;
using InferenceHost.LoadTests.Cli;

namespace InferenceHost.Fuzz;

public static class Program
{
    /// <summary>Exit codes: 0 every target met, 1 a target missed or the run failed, 2 bad options.</summary>
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("Fuzzer for InferenceHost: mutated requests, raw HTTP framing and broken adapters against a server on loopback, " +
            "with temperature-0 probes before and after; and a soak with adapters loaded and unloaded under traffic.")
        {
            FuzzCommand.Run(), SoakCommand.Create(), ReplayCommand.Create(), FuzzCommand.List(),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
            }

            return 2;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is OptionException or InvalidOperationException or TimeoutException or IOException or HttpRequestException
                                       or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }
    }
}
