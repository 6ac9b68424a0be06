using System.Security.Cryptography;
using InferenceHost.LoadTests.Server;

namespace InferenceHost.Fuzz.Target;

/// <summary>
/// The server under attack. Started here: a child process of the host DLL on a free loopback port, with a fresh
/// admin key and a scratch adapter root as its only <c>Adapters:AllowedRoots</c>; stopped (the whole tree) on dispose.
/// </summary>
public sealed class FuzzTarget : IAsyncDisposable
{
    private readonly ServerProcess? _server;
    private readonly int? _pid;

    private FuzzTarget(Uri url, string? adminKey, string? adapterRoot, string modelDir, ServerProcess? server, int? pid)
    {
        Url = url;
        AdminKey = adminKey;
        AdapterRoot = adapterRoot;
        ModelDir = modelDir;
        _server = server;
        _pid = pid;
    }

    public Uri Url { get; }

    public string? AdminKey { get; }

    public string? AdapterRoot { get; }

    public string ModelDir { get; }

    public string? Authorization => AdminKey is null ? null : $"Bearer {AdminKey}";

    /// <summary>False once the server process has exited (null: no process to watch).</summary>
    public bool? Alive => _server is not null ? !_server.HasExited : _pid is { } p ? Directory.Exists($"/proc/{p}") : null;

    public string? ExitInfo => _server?.ExitCode is { } code ? $"exited with code {code}" : null;

    /// <summary>Resident memory of the server process in bytes (Linux), or null.</summary>
    public long? Rss() => (_server?.ProcessId ?? _pid) is { } pid ? ProcessMemory.RssBytes(pid) : null;

    public static async Task<FuzzTarget> StartAsync(TargetOptions o, string outDir, TextWriter log, CancellationToken ct)
    {
        var model = Path.GetFullPath(o.ModelDir);
        if (o.Url is not null)
        {
            return new FuzzTarget(o.Url, o.AdminKey, o.AdapterRoot is null ? null : Path.GetFullPath(o.AdapterRoot), model, null, o.Pid);
        }

        var root = Path.Combine(Path.GetFullPath(outDir), "adapter-root");
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        Directory.CreateDirectory(root);
        var preloaded = Path.Combine(model, "adapters");
        if (!Directory.Exists(preloaded))
        {
            preloaded = Directory.CreateDirectory(Path.Combine(Path.GetFullPath(outDir), "no-adapters")).FullName;
        }

        var key = "fuzz-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var port = ServerProcess.FreePort();
        string[] args =
        [
            Dotnet(), o.ResolveHostDll(), $"--Model:Path={model}", $"--Adapters:Directory={preloaded}", $"--Adapters:AllowedRoots:0={root}",
            $"--Auth:AdminKeys:0={key}", $"--Lora:Mode={o.LoraMode}", "--urls", $"http://127.0.0.1:{port}", .. o.ServerArgs,
        ];
        var server = await ServerProcess.StartAsync(args, port, Path.Combine(outDir, "server.log"), TimeSpan.FromSeconds(o.ReadyTimeoutSeconds), log, ct,
            string.Join(' ', args).Replace(key, "<admin key>", StringComparison.Ordinal));
        return new FuzzTarget(server.BaseUrl, key, root, model, server, null);
    }

    /// <summary>The dotnet executable running this process when there is one (tests, <c>dotnet run</c>), else dotnet on the PATH.</summary>
    private static string Dotnet() =>
        Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>Resident set size from <c>/proc/PID/status</c>.</summary>
public static class ProcessMemory
{
    public static long? RssBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static double MiB(long bytes) => Math.Round(bytes / 1048576.0, 1);
}
