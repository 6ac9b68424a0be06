using System.Text;
using System.Text.Json.Nodes;

namespace InferenceHost.Fuzz.Cases;

/// <summary>Small helpers the families share: picking, building cases, field lists per route.</summary>
internal static class Pick
{
    public static T One<T>(this Random r, IReadOnlyList<T> items) => items[r.Next(items.Count)];

    public static bool Coin(this Random r, int oneIn = 2) => r.Next(oneIn) == 0;

    public static FuzzCase Json(string family, string description, string path, RawBody body) =>
        new() { Family = family, Description = description, Path = path, Body = body.Bytes() };

    public static FuzzCase Json(string family, string description, string path, JsonObject body) =>
        Json(family, description, path, new RawBody(body));

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    public static readonly string[] CompletionFields =
    [
        "model", "prompt", "max_tokens", "temperature", "top_p", "top_k", "n", "stop", "seed", "stream", "stream_options",
        "echo", "logprobs", "user", "ignore_eos", "return_token_ids", "adapters", "best_of", "suffix", "frequency_penalty", "logit_bias",
    ];

    public static readonly string[] ChatFields =
    [
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "n", "stop", "seed", "stream",
        "stream_options", "logprobs", "top_logprobs", "user", "adapters", "response_format", "tools", "tool_choice",
    ];

    public static readonly string[] NumericFields =
        ["max_tokens", "temperature", "top_p", "top_k", "n", "seed", "frequency_penalty", "presence_penalty"];

    /// <summary>The fields a body of <paramref name="path"/> has.</summary>
    public static IReadOnlyList<string> Fields(string path, JsonObject body) => path switch
    {
        Routes.Completions => CompletionFields,
        Routes.Chat => ChatFields,
        _ => body.Select(kv => kv.Key).ToArray(),
    };

    /// <summary>A string field of the body (the prompt, a message, the model, a path...) and its parent object.</summary>
    public static (JsonObject Parent, string Key) StringField(Random r, string path, JsonObject body)
    {
        if (path == Routes.Chat && r.Coin())
        {
            var message = (JsonObject)body["messages"]![0]!;
            return (message, r.Coin(3) ? "role" : "content");
        }

        var keys = body.Where(kv => kv.Value is JsonValue v && v.TryGetValue<string>(out _)).Select(kv => kv.Key).ToList();
        keys.AddRange(path is Routes.Completions or Routes.Chat ? ["stop", "user"] : []);
        return (body, r.One(keys));
    }
}
