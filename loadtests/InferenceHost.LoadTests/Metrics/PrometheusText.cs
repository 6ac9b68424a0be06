using System.Globalization;

namespace InferenceHost.LoadTests.Metrics;

/// <summary>
/// A generic reader of the Prometheus text exposition format: every sample line becomes one entry
/// <c>series → value</c>, where the series is the metric name with its label set exactly as exposed
/// (e.g. <c>lora_batch_size_bucket{le="8"}</c>). Comments, HELP and TYPE lines are skipped; timestamps ignored.
/// </summary>
public static class PrometheusText
{
    public static Dictionary<string, double> Parse(string text)
    {
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
                continue;
            int end = SeriesEnd(line);
            if (end <= 0)
                continue;
            string key = line[..end];
            string[] rest = line[end..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (rest.Length == 0 || !TryParseValue(rest[0], out double value))
                continue;
            series[key] = value;
        }
        return series;
    }

    /// <summary>The metric name of a series key (the part before any '{').</summary>
    public static string FamilyOf(string series)
    {
        int brace = series.IndexOf('{');
        return brace < 0 ? series : series[..brace];
    }

    public static bool TryParseValue(string s, out double value)
    {
        switch (s)
        {
            case "+Inf" or "Inf": value = double.PositiveInfinity; return true;
            case "-Inf": value = double.NegativeInfinity; return true;
            case "NaN": value = double.NaN; return true;
            default: return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }

    /// <summary>Index just past the series key: the name, plus a label block whose quoted values may hold '}' or spaces.</summary>
    private static int SeriesEnd(string line)
    {
        int i = 0;
        while (i < line.Length && line[i] != '{' && !char.IsWhiteSpace(line[i]))
            i++;
        if (i == line.Length || line[i] != '{')
            return i;
        bool quoted = false;
        for (i++; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted && c == '\\') { i++; continue; }
            if (c == '"') quoted = !quoted;
            else if (c == '}' && !quoted) return i + 1;
        }
        return -1; // unterminated label block: skip the line
    }
}

/// <summary>A server metric before and after a run; Delta is after − before (before missing counts as 0).</summary>
public sealed record MetricDelta(string Series, double? Before, double? After)
{
    public double? Delta => After is { } a ? a - (Before ?? 0) : null;

    /// <summary>The series from either scrape whose family name contains one of the filters (case-insensitive).</summary>
    public static List<MetricDelta> Select(IReadOnlyDictionary<string, double>? before,
        IReadOnlyDictionary<string, double>? after, IReadOnlyList<string> filters)
    {
        before ??= new Dictionary<string, double>();
        after ??= new Dictionary<string, double>();
        return before.Keys.Union(after.Keys)
            .Where(s => filters.Count == 0 || filters.Any(f => PrometheusText.FamilyOf(s).Contains(f, StringComparison.OrdinalIgnoreCase)))
            .Order(StringComparer.Ordinal)
            .Select(s => new MetricDelta(s, Get(before, s), Get(after, s)))
            .ToList();
    }

    private static double? Get(IReadOnlyDictionary<string, double> d, string key) => d.TryGetValue(key, out double v) ? v : null;
}
