using System.Text;
using System.Text.Json;
using InferenceHost.LoadTests.Cli;

namespace InferenceHost.LoadTests.Traffic;

/// <summary>
/// Makes prompt texts. <c>random</c>: N words from a small vocabulary (roughly one token per word; the tool has
/// no tokenizer, so lengths are approximate). <c>dialogsum</c>: a DialogSum record as a summarization prompt,
/// truncated to a maximum number of characters.
/// </summary>
public sealed class PromptFactory
{
    private static readonly string[] Vocabulary =
    [
        "the", "model", "adapter", "request", "token", "server", "batch", "queue", "layer", "weight", "rank",
        "prompt", "output", "time", "first", "memory", "kernel", "matrix", "value", "key", "cache", "block",
        "stream", "latency", "merged", "switch", "mode", "load", "test", "summary", "dialogue", "person",
    ];

    private readonly PromptSource _source;
    private readonly (int Min, int Max) _length;
    private readonly int _maxChars;
    private readonly IReadOnlyList<string> _dialogues;
    private readonly Random _random;

    public PromptFactory(RunOptions options, Random random)
    {
        _source = options.PromptSource;
        _length = options.PromptLen;
        _maxChars = options.MaxPromptChars;
        _random = random;
        _dialogues = _source == PromptSource.DialogSum ? LoadDialogSum(options.Dataset) : [];
    }

    public const string SummarizeTemplate = "Summarize the following conversation.\n\n{0}\n\nSummary:";

    public static string DialogSumPrompt(string dialogue, int maxChars)
    {
        string prompt = string.Format(System.Globalization.CultureInfo.InvariantCulture, SummarizeTemplate, dialogue);
        return prompt.Length <= maxChars ? prompt : prompt[..maxChars];
    }

    public static IReadOnlyList<string> LoadDialogSum(string path)
    {
        if (!File.Exists(path))
            throw new OptionException($"--dataset '{path}' does not exist (expected DialogSum JSONL with a 'dialogue' field).");
        var dialogues = new List<string>();
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
                continue;
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.TryGetProperty("dialogue", out JsonElement d) && d.GetString() is { Length: > 0 } text)
                dialogues.Add(text);
        }
        if (dialogues.Count == 0)
            throw new OptionException($"--dataset '{path}' has no records with a 'dialogue' field.");
        return dialogues;
    }

    public string Next()
    {
        if (_source == PromptSource.DialogSum)
            return DialogSumPrompt(_dialogues[_random.Next(_dialogues.Count)], _maxChars);
        int words = _random.Next(_length.Min, _length.Max + 1);
        var sb = new StringBuilder(words * 7);
        for (int i = 0; i < words; i++)
        {
            if (i > 0)
                sb.Append(' ');
            sb.Append(Vocabulary[_random.Next(Vocabulary.Length)]);
        }
        return sb.ToString();
    }
}
