using System.Text.RegularExpressions;

namespace InferenceHost.Evaluation;

/// <summary>
/// sacreBLEU 2.6.0's default <c>13a</c> tokenizer (<c>Tokenizer13a</c> followed by <c>TokenizerRegexp</c>),
/// equivalent to mteval-v13a's tokenization. <see cref="Bleu"/> also applies sacreBLEU's
/// <c>rstrip()</c> before calling it (<c>BLEU._preprocess_segment</c>).
/// </summary>
public static partial class Tokenizer13a
{
    // The same four substitutions as sacreBLEU's TokenizerRegexp, applied in order with re.sub semantics
    // (leftmost, non-overlapping). The first class is ASCII punctuation/symbols except ' , - . (written
    // here as explicit ranges: {-~  [-`  space-&  (-+  :-@  /). [0-9] is ASCII digits only, as in Python.
    [GeneratedRegex("([{-~\\[-`\u0020-&(-+:-@/])", RegexOptions.CultureInvariant)]
    private static partial Regex Symbols();

    [GeneratedRegex("([^0-9])([.,])", RegexOptions.CultureInvariant)]
    private static partial Regex PeriodCommaNotAfterDigit();

    [GeneratedRegex("([.,])([^0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex PeriodCommaNotBeforeDigit();

    [GeneratedRegex("([0-9])(-)", RegexOptions.CultureInvariant)]
    private static partial Regex DashAfterDigit();

    /// <summary>
    /// What BLEU does to every hypothesis and reference (sacreBLEU <c>BLEU._preprocess_segment</c> with
    /// <c>lowercase=False</c>): Python <c>rstrip()</c>, then <see cref="Tokenize"/>.
    /// </summary>
    public static IReadOnlyList<string> TokenizeSegment(string segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        return Tokenize(PythonText.RStrip(segment));
    }

    /// <summary>Tokenizes one line and returns its tokens (sacreBLEU joins them with single spaces).</summary>
    public static IReadOnlyList<string> Tokenize(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        line = line.Replace("<skipped>", "", StringComparison.Ordinal)
            .Replace("-\n", "", StringComparison.Ordinal)
            .Replace("\n", " ", StringComparison.Ordinal)
            .Replace("&quot;", "\"", StringComparison.Ordinal)
            .Replace("&amp;", "&", StringComparison.Ordinal)
            .Replace("&lt;", "<", StringComparison.Ordinal)
            .Replace("&gt;", ">", StringComparison.Ordinal);

        line = " " + line + " ";
        line = Symbols().Replace(line, " $1 ");
        line = PeriodCommaNotAfterDigit().Replace(line, "$1 $2 ");
        line = PeriodCommaNotBeforeDigit().Replace(line, " $1 $2");
        line = DashAfterDigit().Replace(line, "$1 $2 ");
        return PythonText.SplitWhitespace(line);
    }
}

/// <summary>Python <c>str</c> whitespace semantics (<c>str.split()</c>, <c>str.rstrip()</c>), which differ from .NET's.</summary>
internal static class PythonText
{
    /// <summary>Python's <c>str.isspace()</c> for one UTF-16 unit (all such characters are in the BMP).</summary>
    public static bool IsSpace(char c) => c switch
    {
        >= '\u0009' and <= '\u000D' => true,
        >= '\u001C' and <= '\u0020' => true,
        '\u0085' or '\u00A0' or '\u1680' => true,
        >= '\u2000' and <= '\u200A' => true,
        '\u2028' or '\u2029' or '\u202F' or '\u205F' or '\u3000' => true,
        _ => false,
    };

    /// <summary><c>str.rstrip()</c> with no arguments.</summary>
    public static string RStrip(string s)
    {
        int end = s.Length;
        while (end > 0 && IsSpace(s[end - 1])) end--;
        return s[..end];
    }

    /// <summary><c>str.split()</c> with no arguments: runs of whitespace separate, no empty strings.</summary>
    public static List<string> SplitWhitespace(string s)
    {
        var parts = new List<string>();
        int i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && IsSpace(s[i])) i++;
            int start = i;
            while (i < s.Length && !IsSpace(s[i])) i++;
            if (i > start) parts.Add(s[start..i]);
        }
        return parts;
    }
}
