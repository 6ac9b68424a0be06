using InferenceHost.CommandLine;
using System.Text;
using System.Text.RegularExpressions;

namespace InferenceHost.Trainer.Data;

/// <summary>
/// One phrasing of an instruction: a prompt and a completion, each with <c>{field}</c> placeholders
/// filled from a record (<c>{{</c> and <c>}}</c> are literal braces). The loss is on the completion only.
/// </summary>
public sealed partial record PromptTemplate(string Prompt, string Completion)
{
    [GeneratedRegex(@"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Placeholder();

    /// <summary>The fields this template reads, in order of first use.</summary>
    public IReadOnlyList<string> Fields =>
        Placeholder().Matches(Prompt + Completion).Where(m => m.Groups[1].Success).Select(m => m.Groups[1].Value).Distinct().ToArray();

    /// <summary>
    /// A user template: <c>"prompt ||| completion"</c> (promptsource's separator), or a prompt alone with
    /// <paramref name="completion"/> given separately.
    /// </summary>
    public static PromptTemplate Parse(string text, string? completion)
    {
        var parts = text.Split("|||");
        if (parts.Length > 2)
        {
            throw new CliException("a template holds at most one '|||' (prompt ||| completion)");
        }

        var prompt = Unescape(parts[0]).TrimEnd(' ');
        var target = parts.Length == 2 ? Unescape(parts[1]).TrimStart(' ') : completion
            ?? throw new CliException("the template has no '|||' completion part; give --completion \"{field}\"");
        var t = new PromptTemplate(prompt, target);
        if (t.Fields.Count == 0)
        {
            throw new CliException($"template \"{text}\" names no {{field}}");
        }

        return t;
    }

    /// <summary>Renders prompt and completion; a missing or empty field is an error naming file and line.</summary>
    public (string Prompt, string Completion) Render(Record record)
    {
        foreach (var f in Fields)
        {
            if (!record.Fields.TryGetValue(f, out var v))
            {
                throw new DataException(record.File, record.Line,
                    $"field '{f}' is missing (the template needs {string.Join(", ", Fields)}; the record has {string.Join(", ", record.Fields.Keys)})");
            }

            if (string.IsNullOrWhiteSpace(v))
            {
                throw new DataException(record.File, record.Line, $"field '{f}' is empty");
            }
        }

        return (Fill(Prompt, record), Fill(Completion, record));
    }

    private static string Fill(string template, Record record) =>
        Placeholder().Replace(template, m => m.Value switch
        {
            "{{" => "{",
            "}}" => "}",
            _ => record.Fields[m.Groups[1].Value].Trim(),
        });

    private static string Unescape(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length && s[i + 1] is 'n' or 't')
            {
                sb.Append(s[++i] == 'n' ? '\n' : '\t');
            }
            else
            {
                sb.Append(s[i]);
            }
        }

        return sb.ToString();
    }
}

/// <summary>
/// A named task with several phrasings of the same instruction (FLAN's recipe: the model sees the task
/// asked in different words, so it learns the task rather than one string). Each example gets one
/// phrasing, chosen from the example's index and the seed.
/// </summary>
public sealed record TaskTemplate(string Name, string Description, IReadOnlyList<PromptTemplate> Phrasings)
{
    public PromptTemplate For(int exampleIndex, int seed) => Phrasings[StableIndex(exampleIndex, seed)];

    private int StableIndex(int exampleIndex, int seed)
    {
        // HashCode is randomized per process; this must give the same phrasing on every run.
        // SplitMix64's finalizer over (index, seed): every phrasing gets an even share.
        var h = ((ulong)(uint)exampleIndex << 32 | (uint)seed) + 0x9E3779B97F4A7C15UL;
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL;
        h = (h ^ (h >> 27)) * 0x94D049BB133111EBUL;
        h ^= h >> 31;
        return (int)(h % (ulong)Phrasings.Count);
    }
}

/// <summary>The built-in template library.</summary>
public static class TemplateLibrary
{
    private static PromptTemplate T(string prompt, string completion) => new(prompt, completion);

    public static IReadOnlyDictionary<string, TaskTemplate> Tasks { get; } = new[]
    {
        new TaskTemplate("dialogue-summary", "summarize a dialogue (fields: dialogue, summary)",
        [
            T("Summarize this dialogue:\n{dialogue}\nSummary:\n", "{summary}"),
            T("{dialogue}\n\nBriefly summarize that dialogue.\n", "{summary}"),
            T("Dialogue:\n{dialogue}\n\nWhat was going on in this conversation?\n", "{summary}"),
            T("Write a short summary of the conversation below.\n\n{dialogue}\n\nSummary:\n", "{summary}"),
        ]),
        new TaskTemplate("dialogue-topic", "name a dialogue's topic (fields: dialogue, topic)",
        [
            T("What is the topic of this dialogue?\n{dialogue}\nTopic:\n", "{topic}"),
            T("{dialogue}\n\nIn a few words, what are they talking about?\n", "{topic}"),
        ]),
        new TaskTemplate("review-rating", "rate a review 1-5 (fields: review, rating)",
        [
            T("Review: {review}\nOn a scale of 1 to 5, how would the reviewer rate this?\n", "{rating}"),
            T("{review}\n\nHow many stars (1-5) does this review give?\n", "{rating}"),
            T("Read the review and give its star rating.\nReview: {review}\nRating:\n", "{rating}"),
        ]),
        new TaskTemplate("sentiment", "classify sentiment (fields: text, label)",
        [
            T("{text}\nIs the sentiment of this text positive or negative?\n", "{label}"),
            T("What is the sentiment of the following text?\n{text}\nSentiment:\n", "{label}"),
            T("Text: {text}\nWas the writer happy or unhappy? Answer positive or negative.\n", "{label}"),
        ]),
        new TaskTemplate("translation", "translate (fields: source_lang, target_lang, source, target)",
        [
            T("Translate from {source_lang} to {target_lang}:\n{source}\n", "{target}"),
            T("{source}\n\nHow would you say that in {target_lang}?\n", "{target}"),
            T("{source_lang}: {source}\n{target_lang}:\n", "{target}"),
        ]),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>
    /// <c>NAME</c> (all phrasings), <c>NAME#K</c> (phrasing K only, 0-based), or a user template with
    /// <c>{field}</c> placeholders (<c>prompt ||| completion</c>, or the prompt with <paramref name="completion"/>).
    /// </summary>
    public static TaskTemplate Resolve(string spec, string? completion = null)
    {
        var hash = spec.LastIndexOf('#');
        var name = hash > 0 && int.TryParse(spec[(hash + 1)..], out _) ? spec[..hash] : spec;
        if (Tasks.TryGetValue(name, out var task))
        {
            if (name.Length == spec.Length)
            {
                return task;
            }

            var k = int.Parse(spec[(hash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            if (k < 0 || k >= task.Phrasings.Count)
            {
                throw new CliException($"template {name} has phrasings 0..{task.Phrasings.Count - 1}, not {k}");
            }

            return task with { Name = spec, Phrasings = [task.Phrasings[k]] };
        }

        if (!spec.Contains('{'))
        {
            throw new CliException($"unknown template '{spec}'; built-in: {string.Join(", ", Tasks.Keys)}; or give a template with {{field}} placeholders");
        }

        return new TaskTemplate("custom", "user template", [PromptTemplate.Parse(spec, completion)]);
    }
}
