using System.Text.Json;

namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// <c>generation_config.json</c>: the end-of-turn ids generation stops on (<c>eos_token_id</c>, an integer or a
/// list), which chat checkpoints often list beyond config.json's (Llama 3 Instruct adds <c>&lt;|eot_id|&gt;</c> there).
/// </summary>
public static class GenerationConfig
{
    public const string FileName = "generation_config.json";

    /// <summary>The file's eos_token_id values; none when the file is absent.</summary>
    public static IReadOnlyList<int> EosTokenIds(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path))
        {
            return [];
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.ValueKind == JsonValueKind.Object
                ? LlamaConfigParser.ReadEos(path, doc.RootElement)
                : throw new CheckpointException(path, "expected a JSON object");
        }
        catch (JsonException ex)
        {
            throw new CheckpointException(path, $"not valid JSON ({ex.Message})", ex);
        }
    }
}
