using System.Net;
using InferenceHost.Tests.Shared;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace InferenceHost.Gateway.Tests.Harness;

/// <summary>
/// One InferenceHost server (the tiny fixture model) on Kestrel at a fixed loopback port, so that a replica
/// stopped and started again comes back under the same address. Stopping it aborts its connections at once
/// (shutdown timeout zero), as a crashed pod would.
/// </summary>
public sealed class Replica(int port, string adaptersDir, IReadOnlyDictionary<string, string?> settings)
    : WebApplicationFactory<global::Program>
{
    public int Port => port;

    public string Url => $"http://127.0.0.1:{port}";

    public string Id => $"127.0.0.1:{port}";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        var all = new Dictionary<string, string?>
        {
            ["Model:Path"] = TestFixtures.ModelDir("tiny-llama"),
            ["Adapters:Directory"] = adaptersDir,
            ["Lora:Mode"] = "unmerged",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in settings)
        {
            all[k] = v;
        }

        foreach (var (k, v) in all)
        {
            builder.UseSetting(k, v);
        }

        builder.ConfigureServices(s => s.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.Zero));
    }

    public async Task StartAsync()
    {
        UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        StartServer();
        using var http = new HttpClient { BaseAddress = new Uri(Url) };
        await Poll.UntilAsync(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK, "replica ready");
    }

    public static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

public static class Poll
{
    /// <summary>Polls <paramref name="condition"/> every 100 ms for up to <paramref name="seconds"/> (generous: the machine is shared).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not up yet
            }

            if (DateTime.UtcNow > deadline)
            {
                Console.Error.WriteLine($"timed out waiting for: {what}");
                throw new TimeoutException($"timed out waiting for: {what}");
            }

            await Task.Delay(100);
        }
    }
}
