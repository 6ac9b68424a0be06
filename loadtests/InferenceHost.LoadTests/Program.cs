using InferenceHost.LoadTests.Cli;

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
        try
        {
            return await LoadToolCli.RunAsync(args, stdout, stderr, ct);
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
