using System.Text.Json.Nodes;
using static InferenceHost.Fuzz.Adapters.BrokenKind;

namespace InferenceHost.Fuzz.Adapters;

/// <summary>Broken <c>adapter_config.json</c> files and refused formats (pickles, DoRA, modules_to_save).</summary>
internal static class ConfigKinds
{
    private const string G = "config";

    private static Func<AdapterWorkspace, string> Set(string key, JsonNode? value) => WithConfig(c => c[key] = value?.DeepClone());

    /// <summary>The valid config's text with one member's value replaced by raw JSON text.</summary>
    private static Func<AdapterWorkspace, string> Raw(string key, string raw) => WithConfigText(c =>
    {
        c[key] = "@@RAW@@";
        return c.ToJsonString().Replace("\"@@RAW@@\"", raw, StringComparison.Ordinal);
    });

    public static IEnumerable<BrokenKind> All() =>
    [
        new("pickle-only", G, "adapter_model.bin (a pickle) and no safetensors", Expect.Refuse, w =>
        {
            w.Config(w.Source.Config);
            return w.Write("adapter_model.bin", [0x80, 0x02, (byte)'}', (byte)'q', 0x00, (byte)'.', .. new byte[64]]);
        }),
        new("dora", G, "use_dora: true", Expect.Refuse, Set("use_dora", true)),
        new("modules-to-save", G, "modules_to_save: [lm_head]", Expect.Refuse, Set("modules_to_save", new JsonArray("lm_head"))),
        new("bias-all", G, "bias: all", Expect.Refuse, Set("bias", "all")),
        new("peft-type-unknown", G, "peft_type IA3", Expect.Refuse, Set("peft_type", "IA3")),
        new("peft-type-missing", G, "no peft_type", Expect.Refuse, WithConfig(c => c.Remove("peft_type"))),
        new("regex-invalid-target", G, "target_modules regex '(q_proj'", Expect.Refuse, Set("target_modules", "(q_proj")),
        new("regex-invalid-rank-pattern", G, "rank_pattern key '[q'", Expect.Refuse, Set("rank_pattern", new JsonObject { ["[q"] = 4 })),
        new("regex-invalid-alpha-pattern", G, "alpha_pattern key '('", Expect.Refuse, Set("alpha_pattern", new JsonObject { ["("] = 2 })),
        new("regex-catastrophic", G, "target_modules regex '(.*.*)*x' (exponential backtracking)", Expect.Refuse, Set("target_modules", "(.*.*)*x")),
        new("regex-matches-nothing", G, "target_modules regex that matches no module", Expect.Refuse, Set("target_modules", "nothing_here")),
        new("target-missing-module", G, "target_modules [foo_proj]", Expect.Refuse, Set("target_modules", new JsonArray("foo_proj"))),
        new("target-modules-missing", G, "no target_modules", Expect.Refuse, WithConfig(c => c.Remove("target_modules"))),
        new("layers-out-of-range", G, "layers_to_transform [99]", Expect.Refuse, Set("layers_to_transform", new JsonArray(99))),
        new("r-zero", G, "r: 0", Expect.Refuse, Set("r", 0)),
        new("r-negative", G, "r: -8", Expect.Refuse, Set("r", -8)),
        new("r-huge", G, "r: 100000", Expect.Refuse, Set("r", 100_000)),
        new("rank-pattern-zero", G, "rank_pattern {q_proj: 0}", Expect.Refuse, Set("rank_pattern", new JsonObject { ["q_proj"] = 0 })),
        new("alpha-huge", G, "lora_alpha 1e9", Expect.Refuse, Set("lora_alpha", 1e9)),
        new("alpha-negative-huge", G, "lora_alpha -1e9", Expect.Refuse, Set("lora_alpha", -1e9)),
        new("alpha-overflow-literal", G, "lora_alpha 1e999", Expect.Refuse, Raw("lora_alpha", "1e999")),
        new("alpha-nan-string", G, "lora_alpha \"NaN\"", Expect.Refuse, Set("lora_alpha", "NaN")),
        new("alpha-pattern-huge", G, "alpha_pattern {q_proj: 1e12}", Expect.Refuse, Set("alpha_pattern", new JsonObject { ["q_proj"] = 1e12 })),
        new("r-as-string", G, "r: \"8\"", Expect.Refuse, Set("r", "8")),
        new("r-fraction", G, "r: 8.5", Expect.Refuse, Raw("r", "8.5")),
        new("duplicate-key", G, "r twice", Expect.Refuse, WithConfigText(c => "{\"r\": 4, " + c.ToJsonString()[1..])),
        new("surrogate", G, "target_modules [\"q_proj\\udfff\"]", Expect.Refuse, Raw("target_modules", "[\"q_proj\\udfff\"]")),
        new("nul", G, "target_modules [\"q_proj\\u0000\"]", Expect.Refuse, Raw("target_modules", "[\"q_proj\\u0000\"]")),
        new("not-json", G, "config text '{{{'", Expect.Refuse, WithConfigText(_ => "{{{")),
        new("json-list", G, "config is a JSON list", Expect.Refuse, WithConfigText(_ => "[]")),
        new("json-null", G, "config is null", Expect.Refuse, WithConfigText(_ => "null")),
        new("empty-config", G, "a 0-byte config", Expect.Refuse, WithConfigText(_ => string.Empty)),
        new("huge-config", G, "a 2 MiB config", Expect.Refuse, WithConfigText(c => c.ToJsonString()[..^1] + ", \"pad\": \"" + new string('p', 2 << 20) + "\"}")),
        new("deep-config", G, "a member nested 10,000 deep", Expect.Refuse, WithConfigText(c => c.ToJsonString()[..^1] + ", \"x\": " + new string('[', 10_000) + new string(']', 10_000) + "}")),
        new("config-missing", G, "weights but no config", Expect.Refuse, w => w.Weights(w.Source.Tensors)),
        new("weights-missing", G, "config but no weights", Expect.Refuse, w => w.Config(w.Source.Config)),
    ];
}
