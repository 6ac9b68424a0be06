using System.Globalization;

namespace InferenceHost.Trainer;

/// <summary>
/// <c>--name value</c> / <c>--flag</c> options (the host's CliArgs, which lives in the web project). Unknown
/// options and bad values are errors naming the option, so a typo never silently changes a training run.
/// </summary>
public sealed class Args
{
    private readonly Dictionary<string, List<string>> values = new(StringComparer.Ordinal);
    private readonly HashSet<string> used = new(StringComparer.Ordinal);

    public Args(IEnumerable<string> args, IReadOnlySet<string> flags)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2)
            {
                throw new UsageException($"unexpected argument '{a}'");
            }

            var name = a[2..];
            string value;
            var eq = name.IndexOf('=');
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (flags.Contains(name))
            {
                value = "true";
            }
            else if (i + 1 < list.Count)
            {
                value = list[++i];
            }
            else
            {
                throw new UsageException($"option --{name} needs a value");
            }

            if (!values.TryGetValue(name, out var bucket))
            {
                values[name] = bucket = [];
            }

            bucket.Add(value);
        }
    }

    public string? Get(string name)
    {
        used.Add(name);
        return values.TryGetValue(name, out var v) ? v[^1] : null;
    }

    public IReadOnlyList<string> GetAll(string name)
    {
        used.Add(name);
        return values.TryGetValue(name, out var v) ? v : [];
    }

    public string Require(string name) => Get(name) ?? throw new UsageException($"option --{name} is required");

    public bool Flag(string name) => Get(name) is { } v && v != "false";

    public int Int(string name, int fallback) =>
        Get(name) is { } s ? (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new UsageException($"--{name}: '{s}' is not an integer")) : fallback;

    public double Double(string name, double fallback) =>
        Get(name) is { } s ? (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new UsageException($"--{name}: '{s}' is not a number")) : fallback;

    public IReadOnlyList<string> List(string name, string fallback) =>
        (Get(name) ?? fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Fails on options nobody asked for (call after reading all of them).</summary>
    public void RejectUnknown()
    {
        var unknown = values.Keys.Where(k => !used.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new UsageException($"unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}");
        }
    }
}

/// <summary>A command-line usage error: printed as it is, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
