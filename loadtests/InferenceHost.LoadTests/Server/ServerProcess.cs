using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using InferenceHost.LoadTests.Cli;

namespace InferenceHost.LoadTests.Server;

/// <summary>
/// The server started by the tool (--start-server): runs the command line, waits for GET /health/ready to
/// answer 200, and kills the whole process tree on dispose. Its output is copied to a log file.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    public Uri BaseUrl { get; }
    public string CommandLineText { get; }

    /// <summary>The server's process id (for memory samples), and whether it is still running.</summary>
    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    private ServerProcess(Process process, StreamWriter log, Uri baseUrl, string commandLine)
    {
        _process = process;
        _log = log;
        BaseUrl = baseUrl;
        CommandLineText = commandLine;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static Task<ServerProcess> StartAsync(RunOptions o, string logPath, TextWriter console, CancellationToken ct)
    {
        int port = o.Port > 0 ? o.Port : FreePort();
        string commandLine = CommandLine.Expand(o.ServerCommand, o, port);
        return StartAsync(CommandLine.Split(commandLine), port, logPath, TimeSpan.FromSeconds(o.ReadyTimeoutSeconds), console, ct, commandLine);
    }

    /// <summary>Starts <paramref name="args"/> (program first), which must serve on 127.0.0.1:<paramref name="port"/>, and waits until it is ready.</summary>
    public static async Task<ServerProcess> StartAsync(IReadOnlyList<string> args, int port, string logPath, TimeSpan readyTimeout,
        TextWriter console, CancellationToken ct, string? commandLine = null)
    {
        commandLine ??= string.Join(' ', args);
        var baseUrl = LoopbackGuard.Validate($"http://127.0.0.1:{port}/");
        var psi = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args.Skip(1))
            psi.ArgumentList.Add(a);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        console.WriteLine($"starting server: {commandLine} (log: {logPath})");
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            await log.DisposeAsync();
            throw new OptionException($"Could not start the server '{args[0]}': {e.Message}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, log, baseUrl, commandLine);
        try
        {
            await server.WaitReadyAsync(readyTimeout, ct);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    private async Task WaitReadyAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var ready = new Uri(BaseUrl, "health/ready");
        var clock = Stopwatch.StartNew();
        string last = "no answer yet";
        while (clock.Elapsed < timeout)
        {
            ct.ThrowIfCancellationRequested();
            if (_process.HasExited)
                throw new InvalidOperationException($"The server exited with code {_process.ExitCode} before it was ready; see its log.");
            try
            {
                using HttpResponseMessage r = await http.GetAsync(ready, ct);
                if (r.StatusCode == HttpStatusCode.OK)
                    return;
                last = $"HTTP {(int)r.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                last = e.Message;
            }
            await Task.Delay(250, ct);
        }
        throw new TimeoutException($"{ready} did not answer 200 within {timeout.TotalSeconds} s (last: {last}).");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException) { }
        _process.Dispose();
        await _log.DisposeAsync();
    }

    /// <summary>Runs a preparation command (e.g. <c>InferenceHost synth-adapters ...</c>) to completion.</summary>
    public static async Task RunPrepareAsync(string commandLine, TextWriter console, TimeSpan timeout, CancellationToken ct)
    {
        List<string> args = CommandLine.Split(commandLine);
        var psi = new ProcessStartInfo(args[0]) { UseShellExecute = false };
        foreach (string a in args.Skip(1))
            psi.ArgumentList.Add(a);
        console.WriteLine($"prepare: {commandLine}");
        using var process = Process.Start(psi) ?? throw new OptionException($"Could not start '{args[0]}'.");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Preparation command did not finish within {timeout.TotalSeconds} s: {commandLine}");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"Preparation command exited with code {process.ExitCode}: {commandLine}");
    }
}
