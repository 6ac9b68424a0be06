namespace InferenceHost.CommandLine;

/// <summary>
/// A small parser for <c>--name value</c> / <c>--flag</c> options, shared (as a linked source file) by the
/// server's and the trainer's command lines. Unknown options and missing values are errors naming the
/// option, so a typo never silently changes what runs.
/// </summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, List<string>> values = new(StringComparer.Ordinal);
    private readonly HashSet<string> used = new(StringComparer.Ordinal);

    public CliArgs(IEnumerable<string> args, IReadOnlySet<string> flags)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2)
            {
                throw new CliException($"unexpected argument '{a}'");
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
                throw new CliException($"option --{name} needs a value");
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

    public string Require(string name) => Get(name) ?? throw new CliException($"option --{name} is required");

    public bool Flag(string name) => Get(name) is { } v && v != "false";

    public int Int(string name, int fallback) => Number(name, fallback, int.TryParse);

    public double Double(string name, double fallback) =>
        Number(name, fallback, (string s, out double d) => double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out d));

    public IReadOnlyList<string> List(string name, string fallback) =>
        (Get(name) ?? fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public long? Long(string name) => Get(name) is { } s ? (long.TryParse(s, out var v) ? v : throw new CliException($"--{name}: '{s}' is not an integer")) : null;

    /// <summary>Fails on options nobody asked for (call after reading all of them).</summary>
    public void RejectUnknown()
    {
        var unknown = values.Keys.Where(k => !used.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new CliException($"unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}");
        }
    }

    private delegate bool TryParse<T>(string s, out T value);

    private T Number<T>(string name, T fallback, TryParse<T> parse) =>
        Get(name) is { } s ? (parse(s, out var v) ? v : throw new CliException($"--{name}: '{s}' is not a valid number")) : fallback;
}

/// <summary>A command-line usage error: printed as it is, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);
