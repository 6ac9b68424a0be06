using System.Net;

namespace InferenceHost.LoadTests.Cli;

/// <summary>
/// The tool only ever sends traffic to this machine: 127.0.0.0/8, localhost or ::1.
/// Anything else is refused before a single request is made.
/// </summary>
public static class LoopbackGuard
{
    public static bool IsLoopback(Uri uri)
    {
        string host = uri.IdnHost.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            return true;
        if (!IPAddress.TryParse(host, out IPAddress? ip))
            return false;
        if (ip.IsIPv4MappedToIPv6)
            ip = ip.MapToIPv4();
        return IPAddress.IsLoopback(ip);
    }

    /// <summary>Parses and checks a target URL; throws <see cref="OptionException"/> with a clear message.</summary>
    public static Uri Validate(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new OptionException($"--url '{url}' is not an absolute http(s) URL.");
        if (!IsLoopback(uri))
            throw new OptionException(
                $"Refusing to target '{uri.Host}': this load-test tool only sends traffic to loopback " +
                "addresses (127.0.0.0/8, localhost or ::1).");
        // A base URL ends in '/', so relative paths like "v1/completions" keep any path prefix it has.
        return uri.AbsolutePath.EndsWith('/') ? uri : new UriBuilder(uri) { Path = uri.AbsolutePath + "/" }.Uri;
    }
}
