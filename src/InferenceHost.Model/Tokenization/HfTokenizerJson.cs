using System.Text;
using System.Text.Json;
using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Model.Tokenization;

/// <summary>One pre-tokenization step of a Hugging Face <c>tokenizer.json</c> (the subset byte-level BPE models use).</summary>
internal abstract record PreTokenizeStep
{
    public sealed record Split(string Pattern, bool IsRegex, bool RemoveMatches) : PreTokenizeStep;
    public sealed record ByteLevel(bool AddPrefixSpace, bool UseRegex) : PreTokenizeStep;
    public sealed record Digits(bool Individual) : PreTokenizeStep;
}

/// <summary>The parts of a Hugging Face fast-tokenizer <c>tokenizer.json</c> that byte-level BPE needs.</summary>
internal sealed class HfTokenizerJson
{
    public required string Description { get; init; }
    public bool IsByteLevelBpe { get; init; }
    public Dictionary<string, int> Vocab { get; init; } = new();
    public List<(string Left, string Right)> Merges { get; init; } = new();
    public bool IgnoreMerges { get; init; }
    public string? UnkToken { get; init; }
    public List<AddedToken> AddedTokens { get; init; } = new();
    public List<PreTokenizeStep> PreTokenizer { get; init; } = new();
    public NormalizationForm? Normalization { get; init; }
    /// <summary>The special token the post-processor's single-sequence template starts with (BOS), if any.</summary>
    public string? TemplateBos { get; init; }

    public static HfTokenizerJson Read(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model)
                || model.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(path, "no \"model\" object (not a Hugging Face tokenizer.json)");
            var modelType = Str(model, "type") ?? (model.TryGetProperty("merges", out _) ? "BPE" : "?");
            var decoderType = root.TryGetProperty("decoder", out var dec) && dec.ValueKind == JsonValueKind.Object ? Str(dec, "type") : null;
            var pre = root.TryGetProperty("pre_tokenizer", out var p) ? p : default;
            bool byteLevel = modelType == "BPE" && (decoderType == "ByteLevel" || ContainsType(pre, "ByteLevel"));
            var description = $"model type {modelType}, decoder {decoderType ?? "none"}";
            if (!byteLevel) return new HfTokenizerJson { Description = description };

            return new HfTokenizerJson
            {
                Description = description,
                IsByteLevelBpe = true,
                Vocab = ReadVocab(path, model),
                Merges = ReadMerges(path, model),
                IgnoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True,
                UnkToken = Str(model, "unk_token"),
                AddedTokens = ReadAddedTokens(path, root),
                PreTokenizer = ReadPreTokenizer(path, pre, new List<PreTokenizeStep>()),
                Normalization = ReadNormalizer(path, root.TryGetProperty("normalizer", out var n) ? n : default),
                TemplateBos = FindTemplateBos(root.TryGetProperty("post_processor", out var pp) ? pp : default),
            };
        }
        catch (JsonException ex) { throw new CheckpointException(path, $"not valid JSON ({ex.Message})", ex); }
        catch (IOException ex) { throw new CheckpointException(path, $"cannot be read ({ex.Message})", ex); }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException)
        {
            throw new CheckpointException(path, $"unexpected structure ({ex.Message})", ex);
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool ContainsType(JsonElement e, string type)
    {
        if (e.ValueKind != JsonValueKind.Object) return false;
        if (Str(e, "type") == type) return true;
        return e.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array
            && list.EnumerateArray().Any(x => ContainsType(x, type));
    }

    private static Dictionary<string, int> ReadVocab(string path, JsonElement model)
    {
        if (!model.TryGetProperty("vocab", out var v) || v.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(path, "\"model.vocab\" is missing or not an object");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                throw new CheckpointException(path, $"vocab entry \"{p.Name}\" has no valid id");
            vocab[p.Name] = id;
        }
        if (vocab.Count == 0) throw new CheckpointException(path, "\"model.vocab\" is empty");
        return vocab;
    }

    private static List<(string, string)> ReadMerges(string path, JsonElement model)
    {
        var merges = new List<(string, string)>();
        if (!model.TryGetProperty("merges", out var m) || m.ValueKind == JsonValueKind.Null) return merges;
        if (m.ValueKind != JsonValueKind.Array) throw new CheckpointException(path, "\"model.merges\" is not an array");
        foreach (var e in m.EnumerateArray())
        {
            if (e.ValueKind == JsonValueKind.String && e.GetString() is { } s && s.IndexOf(' ', 1) is int sp and > 0)
                merges.Add((s[..sp], s[(sp + 1)..]));
            else if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2
                     && e[0].GetString() is { } a && e[1].GetString() is { } b)
                merges.Add((a, b));
            else throw new CheckpointException(path, $"merge #{merges.Count} is neither \"a b\" nor [\"a\", \"b\"]");
        }
        return merges;
    }

    private static List<AddedToken> ReadAddedTokens(string path, JsonElement root)
    {
        var list = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var a) || a.ValueKind == JsonValueKind.Null) return list;
        if (a.ValueKind != JsonValueKind.Array) throw new CheckpointException(path, "\"added_tokens\" is not an array");
        foreach (var t in a.EnumerateArray())
        {
            if (t.ValueKind != JsonValueKind.Object || !t.TryGetProperty("id", out var id) || !id.TryGetInt32(out int i)
                || Str(t, "content") is not { Length: > 0 } content)
                throw new CheckpointException(path, $"added token #{list.Count} needs an \"id\" and a \"content\"");
            list.Add(new AddedToken(i, content, t.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True));
        }
        return list;
    }

    private static List<PreTokenizeStep> ReadPreTokenizer(string path, JsonElement e, List<PreTokenizeStep> steps)
    {
        if (e.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return steps;
        bool Flag(string name, bool dflt) => e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.True : dflt;
        switch (Str(e, "type"))
        {
            case "Sequence":
                foreach (var x in e.GetProperty("pretokenizers").EnumerateArray()) ReadPreTokenizer(path, x, steps);
                break;
            case "ByteLevel":
                steps.Add(new PreTokenizeStep.ByteLevel(Flag("add_prefix_space", true), Flag("use_regex", true)));
                break;
            case "Digits":
                steps.Add(new PreTokenizeStep.Digits(Flag("individual_digits", false)));
                break;
            case "Split":
                var pattern = e.GetProperty("pattern");
                var behavior = Str(e, "behavior");
                if (Flag("invert", false) || behavior is not ("Isolated" or "Removed"))
                    throw new CheckpointException(path, $"Split pre-tokenizer with behavior {behavior} (invert {Flag("invert", false)}) is not supported");
                var regex = Str(pattern, "Regex");
                var literal = Str(pattern, "String");
                if (regex is null && literal is null) throw new CheckpointException(path, "Split pre-tokenizer has no pattern");
                steps.Add(new PreTokenizeStep.Split(regex ?? literal!, regex is not null, behavior == "Removed"));
                break;
            default:
                throw new CheckpointException(path, $"pre_tokenizer type {Str(e, "type") ?? "?"} is not supported for byte-level BPE");
        }
        return steps;
    }

    private static NormalizationForm? ReadNormalizer(string path, JsonElement e)
    {
        if (e.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return null;
        var type = Str(e, "type");
        if (type == "Sequence")
        {
            var forms = e.GetProperty("normalizers").EnumerateArray().Select(x => ReadNormalizer(path, x)).Where(f => f is not null).ToList();
            return forms.Count switch { 0 => null, 1 => forms[0], _ => throw new CheckpointException(path, "more than one Unicode normalizer") };
        }
        return type switch
        {
            "NFC" => NormalizationForm.FormC,
            "NFKC" => NormalizationForm.FormKC,
            "NFD" => NormalizationForm.FormD,
            "NFKD" => NormalizationForm.FormKD,
            _ => throw new CheckpointException(path, $"normalizer type {type ?? "?"} is not supported for byte-level BPE"),
        };
    }

    private static string? FindTemplateBos(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        if (Str(e, "type") == "Sequence" && e.TryGetProperty("processors", out var list) && list.ValueKind == JsonValueKind.Array)
            return list.EnumerateArray().Select(FindTemplateBos).FirstOrDefault(x => x is not null);
        if (Str(e, "type") != "TemplateProcessing" || !e.TryGetProperty("single", out var single)
            || single.ValueKind != JsonValueKind.Array || single.GetArrayLength() == 0) return null;
        var first = single[0];
        return first.TryGetProperty("SpecialToken", out var st) ? Str(st, "id") : null;
    }
}
