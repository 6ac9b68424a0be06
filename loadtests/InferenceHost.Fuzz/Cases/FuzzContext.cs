using System.Text.Json.Nodes;

namespace InferenceHost.Fuzz.Cases;

/// <summary>What the case generators know about the target: model names and the scratch adapter root.</summary>
/// <param name="BaseModel">The base model's name (<c>GET /v1/models</c>).</param>
/// <param name="Loras">LoRA adapters the server has loaded (never unloaded by the fuzzer).</param>
/// <param name="SoftPrompts">Soft-prompt adapters the server has loaded.</param>
/// <param name="AdapterRoot">The scratch root (<c>Adapters:AllowedRoots</c>) the fuzzer writes adapters into; null when unknown.</param>
/// <param name="ValidAdapterDir">A valid adapter inside the root, for admin loads; null when there is none.</param>
public sealed record FuzzContext(string BaseModel, IReadOnlyList<string> Loras, IReadOnlyList<string> SoftPrompts, string? AdapterRoot, string? ValidAdapterDir)
{
    /// <summary>Names the fuzzer's own admin loads use, so it never unloads an adapter it did not load.</summary>
    public const string OwnPrefix = "fz-";

    public static readonly string[] Prompts =
    [
        "Once upon a time", "Q: What is the capital of France?\nA:", "1 + 1 = 2, 2 + 2 =", "Ünïcödé and emoji 🙂 test", "a",
    ];

    public string Model(Random r) => r.Next(3) switch
    {
        0 when Loras.Count > 0 => Loras[r.Next(Loras.Count)],
        1 when SoftPrompts.Count > 0 => SoftPrompts[r.Next(SoftPrompts.Count)],
        _ => BaseModel,
    };

    public static string Prompt(Random r) => Prompts[r.Next(Prompts.Length)];

    /// <summary>A valid completions body that generates a few tokens.</summary>
    public JsonObject Completion(Random r) => new()
    {
        ["model"] = Model(r),
        ["prompt"] = Prompt(r),
        ["max_tokens"] = r.Next(1, 5),
        ["temperature"] = r.Next(2) == 0 ? 0 : 0.8,
        ["stream"] = r.Next(3) == 0,
    };

    /// <summary>A valid chat body that generates a few tokens.</summary>
    public JsonObject Chat(Random r) => new()
    {
        ["model"] = Model(r),
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = Prompt(r) }),
        ["max_tokens"] = r.Next(1, 5),
        ["temperature"] = r.Next(2) == 0 ? 0 : 0.8,
        ["stream"] = r.Next(3) == 0,
    };

    /// <summary>A valid admin load of the valid adapter under one of the fuzzer's own names.</summary>
    public (string Path, JsonObject Body) AdminLoad(Random r)
    {
        var name = OwnPrefix + r.Next(1000);
        var dir = ValidAdapterDir ?? "/nonexistent";
        return r.Next(2) == 0
            ? (Routes.Adapters, new JsonObject { ["name"] = name, ["path"] = dir })
            : (Routes.LoadLora, new JsonObject { ["lora_name"] = name, ["lora_path"] = dir });
    }

    /// <summary>A generation or admin body, chosen at random, with its route.</summary>
    public (string Path, JsonObject Body) AnyBody(Random r) => r.Next(10) switch
    {
        < 5 => (Routes.Completions, Completion(r)),
        < 9 => (Routes.Chat, Chat(r)),
        _ => AdminLoad(r),
    };
}
