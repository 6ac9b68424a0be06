namespace InferenceHost.Evaluation.Tests;

/// <summary>
/// Tokenizer corners the goldens do not reach: Python's <c>str.lower()</c>/<c>str.split()</c> semantics on
/// non-ASCII input. Expected tokens were produced by running the reference code itself in CPython 3.11
/// (rouge_score's <c>tokenize.tokenize(text, None)</c>; sacreBLEU's <c>Tokenizer13a</c> + <c>TokenizerRegexp</c>
/// after <c>rstrip()</c>), not by this library.
/// </summary>
public class TokenizerEdgeCaseTests
{
    public static TheoryData<string, string[]> RougeCases() => new()
    {
        // U+0130 lowers to "i" + U+0307 (which splits); the Kelvin sign lowers to ASCII 'k'.
        { "\u0130stanbul \u212Aelvin", ["i", "stanbul", "kelvin"] },
        { "ABC\u0130DEF", ["abci", "def"] },
        { "x\u00e9y 12\u00b3", ["x", "y", "12"] },
    };

    public static TheoryData<string, string[]> Bleu13aCases() => new()
    {
        // NBSP, U+001C and U+3000 are Python whitespace; U+200B is not.
        { "a\u00a0b\u001cc\u3000d\u200be", ["a", "b", "c", "d\u200be"] },
        {
            "Price: $3,000.50 (approx.) -- 1990-2000 &amp; <skipped>x",
            ["Price", ":", "$", "3,000.50", "(", "approx", ".", ")", "--", "1990", "-", "2000", "&", "x"]
        },
        { "e.g. U.S.A., 3.5, a.b", ["e", ".", "g", ".", "U", ".", "S", ".", "A", ".", ",", "3.5", ",", "a", ".", "b"] },
        { "end \u2028 \u0085 ", ["end"] },
    };

    [Theory]
    [MemberData(nameof(RougeCases))]
    public void Rouge_tokenizer_follows_python_lowercasing(string text, string[] expected) =>
        Assert.Equal(expected, new RougeTokenizer(useStemmer: false).Tokenize(text));

    [Theory]
    [MemberData(nameof(Bleu13aCases))]
    public void Tokenizer13a_follows_python_whitespace_and_regex(string text, string[] expected) =>
        Assert.Equal(expected, Tokenizer13a.TokenizeSegment(text));
}
