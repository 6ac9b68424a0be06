using System.Globalization;

namespace InferenceHost.LoadTests.Cli;

/// <summary>
/// Option name → raw string value, shared by the command line (parsed by System.CommandLine, see
/// <see cref="LoadToolCli"/>) and scenario files (<c>"name": value</c>). Every option read is marked, so unknown
/// options in a scenario file are reported instead of ignored.
/// </summary>
public sealed class OptionBag
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _read = new(StringComparer.OrdinalIgnoreCase);

    public OptionBag() { }

    public OptionBag(IEnumerable<KeyValuePair<string, string>> values)
    {
        foreach (var (k, v) in values)
            _values[k] = v;
    }

    public IEnumerable<string> Names => _values.Keys;

    public IReadOnlyDictionary<string, string> Values => _values;

    public OptionBag With(OptionBag overrides)
    {
        var merged = new OptionBag(_values);
        foreach (var (k, v) in overrides._values)
            merged._values[k] = v;
        return merged;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? GetString(string name)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out string? v) ? v : null;
    }

    public string GetString(string name, string fallback) => GetString(name) ?? fallback;

    public T GetChoice<T>(string name, T fallback) where T : struct, Enum
    {
        string? raw = GetString(name);
        if (raw is null)
            return fallback;
        if (Enum.TryParse(raw.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out T v) && Enum.IsDefined(v))
            return v;
        string choices = string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()));
        throw new OptionException($"--{name} '{raw}' is not one of: {choices}.");
    }

    public int GetInt(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        string? raw = GetString(name);
        if (raw is null)
            return fallback;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new OptionException($"--{name} '{raw}' is not a whole number.");
        if (v < min || v > max)
            throw new OptionException($"--{name} {v} is out of range [{min}, {max}].");
        return v;
    }

    public double GetDouble(string name, double fallback, double min = double.MinValue, double max = double.MaxValue)
    {
        string? raw = GetString(name);
        if (raw is null)
            return fallback;
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new OptionException($"--{name} '{raw}' is not a number.");
        if (v < min || v > max)
            throw new OptionException($"--{name} {v} is out of range [{min}, {max}].");
        return v;
    }

    public double? GetOptionalDouble(string name, double min = 0)
        => Has(name) ? GetDouble(name, 0, min) : MarkRead(name);

    public bool GetBool(string name, bool fallback = false)
    {
        string? raw = GetString(name);
        return raw is null ? fallback : raw.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" or "on" => true,
            "false" or "0" or "no" or "off" => false,
            _ => throw new OptionException($"--{name} '{raw}' is not true/false."),
        };
    }

    /// <summary>Parses "a" or "a-b" (inclusive) into a range; a single value gives min == max.</summary>
    public (int Min, int Max) GetRange(string name, int fallback)
    {
        string? raw = GetString(name);
        if (raw is null)
            return (fallback, fallback);
        string[] parts = raw.Split('-', ':');
        if (parts.Length is < 1 or > 2
            || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int lo)
            || !int.TryParse(parts[^1], CultureInfo.InvariantCulture, out int hi)
            || lo < 1 || hi < lo)
            throw new OptionException($"--{name} '{raw}' must be N or MIN-MAX with 1 <= MIN <= MAX.");
        return (lo, hi);
    }

    public IReadOnlyList<string> GetList(string name)
        => GetString(name)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    /// <summary>Throws if any option given was never read by the command.</summary>
    public void ThrowOnUnknown(string command)
    {
        var unknown = _values.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new OptionException(
                $"Unknown option(s) for '{command}': {string.Join(", ", unknown.Select(u => "--" + u))}. See --help.");
    }

    private double? MarkRead(string name)
    {
        _read.Add(name);
        return null;
    }
}
