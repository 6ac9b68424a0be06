using System.Globalization;
using System.Text.Json;

namespace InferenceHost.Trainer.Data;

/// <summary>One JSONL record: its fields as strings, and where it came from.</summary>
public sealed record Record(string File, int Line, IReadOnlyDictionary<string, string> Fields);

/// <summary>Reads JSON Lines files: one object per line, blank lines allowed; errors name file and line.</summary>
public static class JsonlReader
{
    public static List<Record> Read(string path, BadRecordPolicy policy, SkipCounts skips)
    {
        if (!System.IO.File.Exists(path))
        {
            throw new DataException(path, 0, "file does not exist");
        }

        var records = new List<Record>();
        var lineNo = 0;
        foreach (var line in System.IO.File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            Dictionary<string, string> fields;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    skips.Handle(policy, new DataException(path, lineNo, $"expected a JSON object, found {doc.RootElement.ValueKind}"), "non-object lines");
                    continue;
                }

                fields = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    fields[p.Name] = p.Value.ValueKind switch
                    {
                        JsonValueKind.String => p.Value.GetString()!,
                        JsonValueKind.Number => p.Value.GetRawText(),
                        JsonValueKind.True or JsonValueKind.False => p.Value.GetBoolean().ToString(CultureInfo.InvariantCulture).ToLowerInvariant(),
                        JsonValueKind.Null => "",
                        _ => p.Value.GetRawText(),
                    };
                }
            }
            catch (JsonException e)
            {
                skips.Handle(policy, new DataException(path, lineNo, $"invalid JSON ({e.Message.Split(" LineNumber", 2)[0]})"), "invalid JSON lines");
                continue;
            }

            records.Add(new Record(path, lineNo, fields));
        }

        return records;
    }
}
