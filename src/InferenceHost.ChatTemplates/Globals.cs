using System.Globalization;
using System.Text;

namespace InferenceHost.ChatTemplates;

/// <summary>
/// The functions Hugging Face's environment offers: <c>raise_exception</c>, <c>strftime_now</c>, Jinja's
/// <c>namespace</c>, <c>range</c> and <c>dict</c>.
/// </summary>
internal static class Globals
{
    private const int MaxRange = 100_000; // Jinja's sandbox limit

    public static IReadOnlySet<string> Names { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "raise_exception", "strftime_now", "namespace", "range", "dict",
    };

    public static void AddTo(Scope scope, TimeProvider clock)
    {
        scope.Set("raise_exception", new Function("raise_exception", a => throw new TemplateRaisedException(Py.Str(a.Get(0, "message")))));
        scope.Set("strftime_now", new Function("strftime_now", a => Strftime(clock.GetLocalNow(), Py.Str(a.Get(0, "format")))));
        scope.Set("namespace", new Function("namespace", NewNamespace));
        scope.Set("range", new Function("range", Range));
        scope.Set("dict", new Function("dict", a => new OrderedDictionary<string, object?>(a.Named, StringComparer.Ordinal)));
    }

    private static Namespace NewNamespace(CallArgs a)
    {
        var ns = new Namespace();
        if (a.Positional.Count > 0 && a.Positional[0] is OrderedDictionary<string, object?> initial)
        {
            foreach (var (k, v) in initial)
            {
                ns.Attributes[k] = v;
            }
        }

        foreach (var (k, v) in a.Named)
        {
            ns.Attributes[k] = v;
        }

        return ns;
    }

    private static List<object?> Range(CallArgs a)
    {
        var n = a.Positional.Select(Py.ToLong).ToArray();
        var (start, stop, step) = n.Length switch
        {
            1 => (0L, n[0], 1L),
            2 => (n[0], n[1], 1L),
            3 => (n[0], n[1], n[2]),
            _ => throw new TemplateRuntimeException("range expects 1 to 3 integer arguments"),
        };
        if (step == 0)
        {
            throw new TemplateRuntimeException("range() arg 3 must not be zero");
        }

        var list = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (list.Count >= MaxRange)
            {
                throw new TemplateRuntimeException($"range is too big (more than {MaxRange} items)");
            }

            list.Add(i);
        }

        return list;
    }

    /// <summary>Python's strftime for the C-locale directives; unknown directives stay as written.</summary>
    public static string Strftime(DateTimeOffset t, string format)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 == format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            char d = format[++i];
            sb.Append(d switch
            {
                'a' => t.ToString("ddd", c),
                'A' => t.ToString("dddd", c),
                'b' or 'h' => t.ToString("MMM", c),
                'B' => t.ToString("MMMM", c),
                'd' => t.ToString("dd", c),
                'e' => t.Day.ToString(c).PadLeft(2),
                'H' => t.ToString("HH", c),
                'I' => t.ToString("hh", c),
                'j' => t.DayOfYear.ToString("000", c),
                'm' => t.ToString("MM", c),
                'M' => t.ToString("mm", c),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'S' => t.ToString("ss", c),
                'y' => t.ToString("yy", c),
                'Y' => t.Year.ToString(c),
                'z' => t.ToString("zzz", c).Replace(":", string.Empty),
                'F' => t.ToString("yyyy-MM-dd", c),
                'T' => t.ToString("HH:mm:ss", c),
                '%' => "%",
                _ => "%" + d,
            });
        }

        return sb.ToString();
    }
}
