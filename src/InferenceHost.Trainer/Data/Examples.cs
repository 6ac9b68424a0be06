using InferenceHost.Model.Tokenization;

namespace InferenceHost.Trainer.Data;

/// <summary>
/// A tokenized training example: the prompt's ids then the completion's (ending with EOS). The loss is on
/// positions from <see cref="PromptLength"/> on only; <see cref="PromptLength"/> 0 means every token counts
/// (pre-training text).
/// </summary>
public sealed record TokenizedExample(int[] Ids, int PromptLength, string File, int Line)
{
    public int CompletionLength => Ids.Length - PromptLength;
}

/// <summary>What to do with an example longer than the maximum sequence length.</summary>
public enum LongExamplePolicy
{
    /// <summary>Handled as a bad record: an error naming file and line, or a counted skip.</summary>
    Reject,

    /// <summary>Drop prompt tokens from the middle of the prompt (keeping its start and the instruction at its end).</summary>
    TruncatePrompt,
}

/// <summary>Turns records into tokenized instruction examples.</summary>
public sealed class ExampleBuilder(ITextTokenizer tokenizer, IReadOnlySet<int> eosIds, int maxLength, BadRecordPolicy policy, LongExamplePolicy longPolicy)
{
    private readonly int eos = tokenizer.EosId ?? eosIds.FirstOrDefault(-1);

    /// <summary>Tokens kept from the end of a prompt when it is shortened (the instruction usually sits there).</summary>
    public const int KeepPromptTail = 24;

    public List<TokenizedExample> Build(IReadOnlyList<Record> records, TaskTemplate template, int seed, SkipCounts skips)
    {
        if (eos < 0)
        {
            throw new InvalidOperationException("the tokenizer has no EOS id; completions must end with one");
        }

        var list = new List<TokenizedExample>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            try
            {
                var (prompt, completion) = template.For(i, seed).Render(r);
                list.Add(Tokenize(prompt, completion, r.File, r.Line));
            }
            catch (DataException e)
            {
                skips.Handle(policy, e, e.Problem.StartsWith("field", StringComparison.Ordinal)
                    ? (e.Problem.Contains("missing", StringComparison.Ordinal) ? "missing-field records" : "empty records")
                    : "over-long records");
            }
        }

        return list;
    }

    public TokenizedExample Tokenize(string prompt, string completion, string file, int line)
    {
        var p = tokenizer.Encode(prompt, addSpecialTokens: true).ToList();
        var c = tokenizer.Encode(completion, addSpecialTokens: false).Append(eos).ToList();
        if (c.Count < 2)
        {
            throw new DataException(file, line, "the completion is empty after tokenization");
        }

        if (p.Count + c.Count > maxLength)
        {
            var room = maxLength - c.Count;
            if (longPolicy == LongExamplePolicy.Reject || room < KeepPromptTail + 8)
            {
                throw new DataException(file, line,
                    $"example is {p.Count + c.Count} tokens (prompt {p.Count} + completion {c.Count}) but --max-length is {maxLength}");
            }

            p = [.. p.Take(room - KeepPromptTail), .. p.Skip(p.Count - KeepPromptTail)];
        }

        return new TokenizedExample([.. p, .. c], p.Count, file, line);
    }
}

/// <summary>Unlabeled text for pre-training: documents separated by EOS, cut into full-length blocks.</summary>
public static class TextCorpus
{
    /// <summary>Documents of a JSONL file (one field) or a text file (paragraphs separated by blank lines).</summary>
    public static List<Record> ReadDocuments(string path, string field, BadRecordPolicy policy, SkipCounts skips)
    {
        if (path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            var records = JsonlReader.Read(path, policy, skips);
            var docs = new List<Record>();
            foreach (var r in records)
            {
                if (!r.Fields.TryGetValue(field, out var text))
                {
                    skips.Handle(policy, new DataException(r.File, r.Line, $"field '{field}' is missing (use --text-field; the record has {string.Join(", ", r.Fields.Keys)})"), "missing-field records");
                }
                else if (string.IsNullOrWhiteSpace(text))
                {
                    skips.Handle(policy, new DataException(r.File, r.Line, $"field '{field}' is empty"), "empty records");
                }
                else
                {
                    docs.Add(new Record(r.File, r.Line, new Dictionary<string, string> { ["text"] = text }));
                }
            }

            return docs;
        }

        if (!File.Exists(path))
        {
            throw new DataException(path, 0, "file does not exist");
        }

        var result = new List<Record>();
        var lines = File.ReadAllLines(path);
        var start = 0;
        for (var i = 0; i <= lines.Length; i++)
        {
            if (i == lines.Length || string.IsNullOrWhiteSpace(lines[i]))
            {
                if (i > start)
                {
                    result.Add(new Record(path, start + 1, new Dictionary<string, string> { ["text"] = string.Join("\n", lines[start..i]) }));
                }

                start = i + 1;
            }
        }

        return result;
    }

    /// <summary>Tokenizes the documents (each followed by EOS) and packs them into blocks of <paramref name="blockLength"/>.</summary>
    public static List<TokenizedExample> Blocks(IReadOnlyList<Record> docs, ITextTokenizer tokenizer, int eos, int blockLength)
    {
        var stream = new List<int>();
        foreach (var d in docs)
        {
            stream.AddRange(tokenizer.Encode(d.Fields["text"], addSpecialTokens: true));
            stream.Add(eos);
        }

        var blocks = new List<TokenizedExample>();
        for (var at = 0; at + blockLength <= stream.Count; at += blockLength)
        {
            blocks.Add(new TokenizedExample(stream.GetRange(at, blockLength).ToArray(), 0, docs.Count > 0 ? docs[0].File : "", 0));
        }

        if (blocks.Count == 0 && stream.Count > 1)
        {
            blocks.Add(new TokenizedExample(stream.ToArray(), 0, docs[0].File, 0));
        }

        return blocks;
    }
}
