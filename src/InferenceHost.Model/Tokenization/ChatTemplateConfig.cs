using System.Text.Json;
using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Model.Tokenization;

/// <summary>A checkpoint's own chat template: its Jinja source and the file it came from.</summary>
public sealed record CheckpointChatTemplate(string Source, string File);

/// <summary>
/// What a checkpoint gives its chat template. The template: <c>chat_template.jinja</c> beside the tokenizer (it
/// wins, as in transformers), else <c>tokenizer_config.json</c>'s <c>chat_template</c>, a string or a list of
/// named templates of which "default" is used. The special tokens: as transformers' <c>special_tokens_map</c>
/// passes them, <c>bos_token</c> ... <c>mask_token</c> (strings), <c>additional_special_tokens</c> (a list) and
/// the names of <c>extra_special_tokens</c>, only those that are set. Read apart from <see cref="TokenizerConfig"/>
/// so that a malformed template never stops the tokenizer from loading.
/// </summary>
public sealed class ChatTemplateConfig
{
    public const string JinjaFile = "chat_template.jinja";
    public const string DefaultName = "default";

    private static readonly string[] NamedTokens = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    private ChatTemplateConfig(CheckpointChatTemplate? template, IReadOnlyDictionary<string, object> specialTokens)
    {
        Template = template;
        SpecialTokens = specialTokens;
    }

    /// <summary>The checkpoint's template, or null when it has none.</summary>
    public CheckpointChatTemplate? Template { get; }

    /// <summary>Values are strings, or a string list for additional_special_tokens.</summary>
    public IReadOnlyDictionary<string, object> SpecialTokens { get; }

    /// <summary>Reads <paramref name="dir"/>; a malformed <c>chat_template</c> (or a list without "default") is a CheckpointException.</summary>
    public static ChatTemplateConfig Load(string dir)
    {
        var path = Path.Combine(dir, TokenizerConfig.FileName);
        var specials = new Dictionary<string, object>(StringComparer.Ordinal);
        CheckpointChatTemplate? template = null;
        if (File.Exists(path))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(path), TokenizerConfig.JsonOptions);
                ReadSpecialTokens(doc.RootElement, path, specials);
                template = ReadTemplate(doc.RootElement, path);
            }
            catch (JsonException ex)
            {
                throw new CheckpointException(path, $"not valid JSON ({ex.Message})", ex);
            }
        }

        var jinja = Path.Combine(dir, JinjaFile);
        if (File.Exists(jinja))
        {
            template = new CheckpointChatTemplate(File.ReadAllText(jinja), jinja);
        }

        return new ChatTemplateConfig(template, specials);
    }

    private static CheckpointChatTemplate? ReadTemplate(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("chat_template", out var t) || t.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (t.ValueKind == JsonValueKind.String)
        {
            return new CheckpointChatTemplate(t.GetString()!, path);
        }

        const string Shape = "\"chat_template\" must be a string or a list of {\"name\": string, \"template\": string}";
        if (t.ValueKind != JsonValueKind.Array)
        {
            throw new CheckpointException(path, $"{Shape}, found {t.ValueKind}");
        }

        var names = new List<string>();
        foreach (var item in t.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || !item.TryGetProperty("template", out var source) || source.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointException(path, Shape);
            }

            if (name.GetString() == DefaultName)
            {
                return new CheckpointChatTemplate(source.GetString()!, path);
            }

            names.Add(name.GetString()!);
        }

        throw new CheckpointException(path, $"\"chat_template\" names the templates {string.Join(", ", names)} but none is \"{DefaultName}\"");
    }

    private static void ReadSpecialTokens(JsonElement root, string path, Dictionary<string, object> map)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var name in NamedTokens)
        {
            if (TokenizerConfig.ReadTokenString(root, name, path) is { } token)
            {
                map[name] = token;
            }
        }

        if (root.TryGetProperty("additional_special_tokens", out var extra) && extra.ValueKind == JsonValueKind.Array)
        {
            map["additional_special_tokens"] = extra.EnumerateArray().Select(e => TokenizerConfig.TokenText(e, "additional_special_tokens", path)).ToArray();
        }

        if (root.TryGetProperty("extra_special_tokens", out var named) && named.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in named.EnumerateObject())
            {
                map.TryAdd(p.Name, TokenizerConfig.TokenText(p.Value, "extra_special_tokens." + p.Name, path));
            }
        }
    }
}
