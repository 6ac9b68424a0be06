using InferenceHost.CommandLine;
namespace InferenceHost.Cli;

/// <summary>
/// <c>healthcheck [--url http://127.0.0.1:8000/health/ready]</c>: exit 0 when the URL answers 200, else 1.
/// For container health checks on images without curl.
/// </summary>
public static class HealthcheckCommand
{
    public static readonly CliVerb Verb = new("healthcheck", "Exit 0 when the URL answers 200, else 1 (container health checks on images without curl).",
        [CliOption.Value("url", "The URL to check (default http://127.0.0.1:8000/health/ready).")], Run);

    public static int Run(CliArgs args, TextWriter stdout)
    {
        var url = args.Get("url") ?? "http://127.0.0.1:8000/health/ready";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = http.GetAsync(url).GetAwaiter().GetResult();
            stdout.WriteLine($"{url}: {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            stdout.WriteLine($"{url}: {e.Message}");
            return 1;
        }
    }
}
