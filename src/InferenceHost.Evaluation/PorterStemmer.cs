namespace InferenceHost.Evaluation;

/// <summary>
/// The Porter stemmer exactly as NLTK 3.8's <c>nltk.stem.porter.PorterStemmer()</c> in its default
/// <c>NLTK_EXTENSIONS</c> mode, which is what rouge_score 0.1.2 uses (<c>porter.PorterStemmer()</c>).
/// Mirrors NLTK's rule lists, its "first matching suffix decides" rule application, the irregular-forms
/// pool, the "words of 1-2 letters are left alone" rule and the NLTK-only departures (ies/ied of
/// 4-letter words, y→i only after a consonant, alli applied first, fulli, logi).
/// Input is expected to be lower case (rouge_score lowercases before stemming).
/// </summary>
public static class PorterStemmer
{
    private static readonly Dictionary<string, string> Pool = new(StringComparer.Ordinal)
    {
        ["sky"] = "sky", ["skies"] = "sky", ["dying"] = "die", ["lying"] = "lie", ["tying"] = "tie",
        ["news"] = "news", ["innings"] = "inning", ["inning"] = "inning", ["outings"] = "outing",
        ["outing"] = "outing", ["cannings"] = "canning", ["canning"] = "canning", ["howe"] = "howe",
        ["proceed"] = "proceed", ["exceed"] = "exceed", ["succeed"] = "succeed",
    };

    private delegate bool Condition(string stem);

    /// <summary>A suffix rule: suffix (or "*d" for a double consonant), replacement, optional condition.</summary>
    private readonly record struct Rule(string Suffix, string Replacement, Condition? When);

    /// <summary>Stems one word like NLTK's <c>PorterStemmer().stem(word)</c> (which lowercases first).</summary>
    public static string Stem(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        string stem = word.ToLowerInvariant();
        if (Pool.TryGetValue(word, out var irregular)) return irregular;
        if (word.Length <= 2) return stem;

        stem = Step1a(stem);
        stem = Step1b(stem);
        stem = Step1c(stem);
        stem = Step2(stem);
        stem = Step3(stem);
        stem = Step4(stem);
        stem = Step5a(stem);
        stem = Step5b(stem);
        return stem;
    }

    private static bool IsVowel(char c) => c is 'a' or 'e' or 'i' or 'o' or 'u';

    private static bool IsConsonant(string word, int i)
    {
        // Iterative form of NLTK's recursive definition: 'y' is a consonant at the start or after a vowel.
        if (IsVowel(word[i])) return false;
        if (word[i] != 'y') return true;
        return i == 0 || !IsConsonant(word, i - 1);
    }

    /// <summary>The measure m: number of "vc" transitions in the consonant/vowel pattern.</summary>
    private static int Measure(string stem)
    {
        int m = 0;
        for (int i = 0; i + 1 < stem.Length; i++)
            if (!IsConsonant(stem, i) && IsConsonant(stem, i + 1)) m++;
        return m;
    }

    private static bool HasPositiveMeasure(string stem) => Measure(stem) > 0;
    private static bool MeasureGreaterThan1(string stem) => Measure(stem) > 1;

    private static bool ContainsVowel(string stem)
    {
        for (int i = 0; i < stem.Length; i++)
            if (!IsConsonant(stem, i)) return true;
        return false;
    }

    private static bool EndsDoubleConsonant(string word) =>
        word.Length >= 2 && word[^1] == word[^2] && IsConsonant(word, word.Length - 1);

    /// <summary>Condition *o (cvc, last c not w/x/y), plus NLTK's two-letter "vc" extension.</summary>
    private static bool EndsCvc(string word) =>
        (word.Length >= 3
         && IsConsonant(word, word.Length - 3)
         && !IsConsonant(word, word.Length - 2)
         && IsConsonant(word, word.Length - 1)
         && word[^1] is not ('w' or 'x' or 'y'))
        || (word.Length == 2 && !IsConsonant(word, 0) && IsConsonant(word, 1));

    private static string Strip(string word, string suffix) => word[..^suffix.Length];

    /// <summary>NLTK's <c>_apply_rule_list</c>: the first rule whose suffix matches decides, even if its condition fails.</summary>
    private static string ApplyRuleList(string word, IEnumerable<Rule> rules)
    {
        foreach (var (suffix, replacement, when) in rules)
        {
            if (suffix == "*d" && EndsDoubleConsonant(word))
            {
                string s = word[..^2];
                return when is null || when(s) ? s + replacement : word;
            }
            if (word.EndsWith(suffix, StringComparison.Ordinal))
            {
                string s = Strip(word, suffix);
                return when is null || when(s) ? s + replacement : word;
            }
        }
        return word;
    }

    private static string Step1a(string word)
    {
        if (word.EndsWith("ies", StringComparison.Ordinal) && word.Length == 4) return Strip(word, "ies") + "ie";
        return ApplyRuleList(word, [new("sses", "ss", null), new("ies", "i", null), new("ss", "ss", null), new("s", "", null)]);
    }

    private static string Step1b(string word)
    {
        if (word.EndsWith("ied", StringComparison.Ordinal))
            return Strip(word, "ied") + (word.Length == 4 ? "ie" : "i");

        if (word.EndsWith("eed", StringComparison.Ordinal))
        {
            string stem = Strip(word, "eed");
            return Measure(stem) > 0 ? stem + "ee" : word;
        }

        string? intermediate = null;
        foreach (var suffix in new[] { "ed", "ing" })
        {
            if (!word.EndsWith(suffix, StringComparison.Ordinal)) continue;
            string candidate = Strip(word, suffix);
            if (ContainsVowel(candidate)) { intermediate = candidate; break; }
        }
        if (intermediate is null) return word;

        char last = intermediate[^1];
        return ApplyRuleList(intermediate,
        [
            new("at", "ate", null),
            new("bl", "ble", null),
            new("iz", "ize", null),
            new("*d", last.ToString(), _ => last is not ('l' or 's' or 'z')),
            new("", "e", s => Measure(s) == 1 && EndsCvc(s)),
        ]);
    }

    private static string Step1c(string word) =>
        ApplyRuleList(word, [new("y", "i", s => s.Length > 1 && IsConsonant(s, s.Length - 1))]);

    private static string Step2(string word)
    {
        if (word.EndsWith("alli", StringComparison.Ordinal) && HasPositiveMeasure(Strip(word, "alli")))
            return Step2(Strip(word, "alli") + "al");

        Condition pos = HasPositiveMeasure;
        return ApplyRuleList(word,
        [
            new("ational", "ate", pos), new("tional", "tion", pos), new("enci", "ence", pos),
            new("anci", "ance", pos), new("izer", "ize", pos), new("bli", "ble", pos),
            new("alli", "al", pos), new("entli", "ent", pos), new("eli", "e", pos),
            new("ousli", "ous", pos), new("ization", "ize", pos), new("ation", "ate", pos),
            new("ator", "ate", pos), new("alism", "al", pos), new("iveness", "ive", pos),
            new("fulness", "ful", pos), new("ousness", "ous", pos), new("aliti", "al", pos),
            new("iviti", "ive", pos), new("biliti", "ble", pos), new("fulli", "ful", pos),
            // NLTK: the 'l' of logi stays with the stem, measured on word[:-3].
            new("logi", "log", _ => HasPositiveMeasure(word[..^3])),
        ]);
    }

    private static string Step3(string word)
    {
        Condition pos = HasPositiveMeasure;
        return ApplyRuleList(word,
        [
            new("icate", "ic", pos), new("ative", "", pos), new("alize", "al", pos), new("iciti", "ic", pos),
            new("ical", "ic", pos), new("ful", "", pos), new("ness", "", pos),
        ]);
    }

    private static string Step4(string word)
    {
        Condition gt1 = MeasureGreaterThan1;
        return ApplyRuleList(word,
        [
            new("al", "", gt1), new("ance", "", gt1), new("ence", "", gt1), new("er", "", gt1),
            new("ic", "", gt1), new("able", "", gt1), new("ible", "", gt1), new("ant", "", gt1),
            new("ement", "", gt1), new("ment", "", gt1), new("ent", "", gt1),
            new("ion", "", s => Measure(s) > 1 && s.Length > 0 && s[^1] is 's' or 't'),
            new("ou", "", gt1), new("ism", "", gt1), new("ate", "", gt1), new("iti", "", gt1),
            new("ous", "", gt1), new("ive", "", gt1), new("ize", "", gt1),
        ]);
    }

    private static string Step5a(string word)
    {
        if (!word.EndsWith('e')) return word;
        string stem = word[..^1];
        if (Measure(stem) > 1) return stem;
        if (Measure(stem) == 1 && !EndsCvc(stem)) return stem;
        return word;
    }

    private static string Step5b(string word) =>
        ApplyRuleList(word, [new("ll", "l", _ => Measure(word[..^1]) > 1)]);
}
