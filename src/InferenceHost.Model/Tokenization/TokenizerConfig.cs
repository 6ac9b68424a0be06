using System.Text.Json;
using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Model.Tokenization;

/// <summary>An added token: from tokenizer_config.json's added_tokens_decoder or tokenizer.json's added_tokens.</summary>
public sealed record AddedToken(int Id, string Content, bool Special);

/// <summary>The parts of Hugging Face <c>tokenizer_config.json</c> the tokenizers use. Every field is optional.</summary>
public sealed class TokenizerConfig
{
    public const string FileName = "tokenizer_config.json";

    public bool? AddBosToken { get; init; }

    public bool? AddEosToken { get; init; }

    public string? BosToken { get; init; }

    public string? EosToken { get; init; }

    public string? UnkToken { get; init; }

    public string? PadToken { get; init; }

    public IReadOnlyList<AddedToken> AddedTokens { get; init; } = Array.Empty<AddedToken>();

    public static TokenizerConfig Empty { get; } = new();

    internal static JsonDocumentOptions JsonOptions { get; } = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>Reads <c>dir/tokenizer_config.json</c> if present; a garbled file is a CheckpointException.</summary>
    public static TokenizerConfig Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return Empty;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path), JsonOptions);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new CheckpointException(path, "expected a JSON object");
            return new TokenizerConfig
            {
                AddBosToken = ReadBool(root, "add_bos_token", path),
                AddEosToken = ReadBool(root, "add_eos_token", path),
                BosToken = ReadTokenString(root, "bos_token", path),
                EosToken = ReadTokenString(root, "eos_token", path),
                UnkToken = ReadTokenString(root, "unk_token", path),
                PadToken = ReadTokenString(root, "pad_token", path),
                AddedTokens = ReadAddedTokensDecoder(root, path),
            };
        }
        catch (JsonException ex)
        {
            throw new CheckpointException(path, $"not valid JSON ({ex.Message})", ex);
        }
        catch (IOException ex)
        {
            throw new CheckpointException(path, $"cannot be read ({ex.Message})", ex);
        }
    }

    private static bool? ReadBool(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new CheckpointException(path, $"\"{name}\" must be true or false, found {v.ValueKind}"),
        };
    }

    /// <summary>A token given either as a string or as an object with "content" (AddedToken serialization).</summary>
    internal static string? ReadTokenString(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return TokenText(v, name, path);
    }

    /// <summary>One token value: a string or an object with "content"; <paramref name="name"/> is for the message.</summary>
    internal static string TokenText(JsonElement v, string name, string path)
    {
        if (v.ValueKind == JsonValueKind.String) return v.GetString()!;
        if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
            return c.GetString()!;
        throw new CheckpointException(path, $"\"{name}\" must be a string or an object with \"content\", found {v.ValueKind}");
    }

    private static IReadOnlyList<AddedToken> ReadAddedTokensDecoder(JsonElement root, string path)
    {
        if (!root.TryGetProperty("added_tokens_decoder", out var dec) || dec.ValueKind == JsonValueKind.Null)
            return Array.Empty<AddedToken>();
        if (dec.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(path, "\"added_tokens_decoder\" must be an object of id → token");
        var list = new List<AddedToken>();
        foreach (var p in dec.EnumerateObject())
        {
            if (!int.TryParse(p.Name, out int id) || id < 0)
                throw new CheckpointException(path, $"\"added_tokens_decoder\" key \"{p.Name}\" is not a token id");
            var content = p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("content", out var c)
                && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            if (content is null)
                throw new CheckpointException(path, $"\"added_tokens_decoder\" entry {id} has no string \"content\"");
            bool special = p.Value.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
            list.Add(new AddedToken(id, content, special));
        }
        return list;
    }
}
