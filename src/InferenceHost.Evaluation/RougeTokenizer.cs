using System.Text;

namespace InferenceHost.Evaluation;

/// <summary>
/// rouge_score 0.1.2's default tokenizer (<c>tokenize.tokenize</c> via <c>DefaultTokenizer</c>):
/// Python <c>str.lower()</c>; every run of characters outside <c>[a-z0-9]</c> becomes a space; split on
/// whitespace; optionally Porter-stem tokens longer than 3 characters; drop empty tokens.
/// </summary>
public sealed class RougeTokenizer
{
    /// <summary>Creates a tokenizer; <paramref name="useStemmer"/> turns on NLTK-compatible Porter stemming.</summary>
    public RougeTokenizer(bool useStemmer) => UseStemmer = useStemmer;

    /// <summary>Whether tokens longer than 3 characters are stemmed.</summary>
    public bool UseStemmer { get; }

    /// <summary>Tokenizes <paramref name="text"/> the way rouge_score does.</summary>
    public IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<string>();
        var current = new StringBuilder();
        foreach (char c in text)
        {
            char lower = LowerToAscii(c);
            if (lower is (>= 'a' and <= 'z') or (>= '0' and <= '9'))
            {
                current.Append(lower);
                // U+0130 lowers to "i\u0307": the combining dot after the 'i' ends the token.
                if (c != '\u0130') continue;
            }
            if (current.Length > 0)
            {
                tokens.Add(Finish(current.ToString()));
                current.Clear();
            }
        }
        if (current.Length > 0) tokens.Add(Finish(current.ToString()));
        return tokens;
    }

    private string Finish(string token) =>
        UseStemmer && token.Length > 3 ? PorterStemmer.Stem(token) : token;

    /// <summary>
    /// The ASCII letter or digit that Python's <c>str.lower()</c> gives for <paramref name="c"/> where it
    /// gives one, otherwise a separator. Only ASCII capitals, the Kelvin sign (U+212A → 'k') and the
    /// dotted capital I (U+0130 → 'i' + U+0307) lowercase into <c>[a-z]</c>; every other non-ASCII
    /// character ends the token, exactly as the <c>[^a-z0-9]+</c> substitution does.
    /// </summary>
    private static char LowerToAscii(char c) => c switch
    {
        >= 'A' and <= 'Z' => (char)(c + ('a' - 'A')),
        (>= 'a' and <= 'z') or (>= '0' and <= '9') => c,
        '\u212A' => 'k',
        '\u0130' => 'i',
        _ => ' ',
    };
}
