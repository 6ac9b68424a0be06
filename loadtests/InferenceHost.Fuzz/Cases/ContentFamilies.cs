using System.Text.Json.Nodes;

namespace InferenceHost.Fuzz.Cases;

/// <summary>Mutations of what the request says: prompt lists, token ids, nesting, stops, text encodings, logprobs, messages.</summary>
internal static class ContentFamilies
{
    public static FuzzCase PromptList(Random r, FuzzContext c)
    {
        var body = c.Completion(r);
        var (what, value) = r.One(new (string, Func<string>)[]
        {
            ("[]", () => "[]"), ("[[]]", () => "[[]]"), ("[[[1]]]", () => "[[[1]]]"), ("[\"a\", 1]", () => "[\"a\", 1]"), ("[1, \"a\"]", () => "[1, \"a\"]"),
            ("[null]", () => "[null]"), ("[\"\"]", () => "[\"\"]"), ("\"\"", () => "\"\""), ("[\"\", \"\"]", () => "[\"\", \"\"]"), ("{}", () => "{\"a\": 1}"),
            ("300 strings", () => "[" + string.Join(",", Enumerable.Repeat("\"a\"", 300)) + "]"),
            ("64 id lists", () => "[" + string.Join(",", Enumerable.Repeat("[1, 2]", 64)) + "]"),
            ("[[1], []]", () => "[[1], []]"), ("[[1], null]", () => "[[1], null]"), ("[\"a\", null]", () => "[\"a\", null]"), ("[[1], \"a\"]", () => "[[1], \"a\"]"), ("[\"a\", [1]]", () => "[\"a\", [1]]"),
            ("200k-char string", () => "\"" + new string('a', 200_000) + "\""),
            ("2 MiB string", () => "\"" + new string('b', 2 << 20) + "\""),
            ("string of 600 words", () => "\"" + string.Join(' ', Enumerable.Repeat("word", 600)) + "\""),
        });
        return Pick.Json("prompt-lists", $"prompt={what}", Routes.Completions, new RawBody(body).Set("prompt", value()));
    }

    public static FuzzCase TokenIds(Random r, FuzzContext c)
    {
        var body = c.Completion(r);
        var value = r.One(new Func<string>[]
        {
            () => "[-1]", () => "[32000]", () => "[31999]", () => "[0]", () => "[2]", () => "[2147483647]", () => "[2147483648]",
            () => "[1.5]", () => "[1e3]", () => "[\"1\"]", () => "[true]", () => "[[32000]]", () => "[[0], [-5]]", () => "[1, -0]",
            () => Ids(r, 250), () => Ids(r, 255), () => Ids(r, 256), () => Ids(r, 257), () => Ids(r, 5000),
        })();
        if (r.Coin(3))
        {
            body["max_tokens"] = r.One(new[] { 1, 6, 300 });
        }

        return Pick.Json("token-ids", $"prompt={(value.Length > 40 ? $"{value.Count(ch => ch == ',') + 1} ids" : value)}, max_tokens={body["max_tokens"]}", Routes.Completions, new RawBody(body).Set("prompt", value));
    }

    private static string Ids(Random r, int count) => "[" + string.Join(",", Enumerable.Range(0, count).Select(_ => r.Next(3, 32000))) + "]";

    public static FuzzCase DeepNesting(Random r, FuzzContext c)
    {
        var depth = r.One(new[] { 31, 32, 33, 64, 1000, 100_000 });
        var (path, body) = c.AnyBody(r);
        var arrays = new string('[', depth) + "1" + new string(']', depth);
        var objects = string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
        var (field, value) = r.Next(3) switch
        {
            0 => (path == Routes.Completions ? "prompt" : "stop", arrays),
            1 => ("metadata", objects),
            _ => ("adapters", "[" + objects + "]"),
        };
        return Pick.Json("deep-nesting", $"{field} nested {depth} deep", path, new RawBody(body).Set(field, value));
    }

    public static FuzzCase LongStop(Random r, FuzzContext c)
    {
        var (path, body) = r.Coin() ? (Routes.Chat, c.Chat(r)) : (Routes.Completions, c.Completion(r));
        var (what, value) = r.One(new (string, Func<string>)[]
        {
            ("1024 chars", () => Str(new string('x', 1024))), ("1025 chars", () => Str(new string('x', 1025))),
            ("100k chars", () => Str(new string('y', 100_000))), ("16 strings", () => List(16)), ("17 strings", () => List(17)),
            ("1000 strings", () => List(1000)), ("[\"\"]", () => "[\"\"]"), ("\"\"", () => "\"\""), ("[null]", () => "[null]"), ("[1]", () => "[1]"),
            ("newline", () => "\"\\n\""), ("single letter", () => "[\"e\", \"a\", \" \"]"), ("emoji", () => "\"🙂\""),
            ("space", () => "\" \""), ("combining mark", () => "\"e\\u0301\""),
        });
        body["max_tokens"] = r.Next(1, 9);
        return Pick.Json("long-stops", $"stop={what}", path, new RawBody(body).Set("stop", value()));

        static string Str(string s) => "\"" + s + "\"";
        static string List(int n) => "[" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"s{i}\"")) + "]";
    }

    private static readonly byte[][] BadUtf8 =
    [
        [0xC3, 0x28], [0xA0, 0xA1], [0xE2, 0x28, 0xA1], [0xF0, 0x28, 0x8C, 0xBC], [0xF8, 0xA1, 0xA1, 0xA1, 0xA1], [0xC0, 0xAF],
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xFF], [0xFE, 0xFF], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80],
    ];

    public static FuzzCase InvalidUtf8(Random r, FuzzContext c)
    {
        var (path, body) = c.AnyBody(r);
        var (parent, key) = Pick.StringField(r, path, body);
        var bad = r.One(BadUtf8);
        var raw = new RawBody(body);
        raw.SetBytes(key, [(byte)'"', (byte)'a', .. bad, (byte)'b', (byte)'"'], parent);
        return Pick.Json("invalid-utf8", $"{key} holds {Convert.ToHexString(bad)}", path, raw);
    }

    public static FuzzCase Surrogate(Random r, FuzzContext c)
    {
        var (path, body) = c.AnyBody(r);
        var escape = r.One(new[] { "\\udfff", "\\ud800", "\\ud800\\u0041", "\\udbff\\udfff", "\\udc00\\ud800", "\\uD83D", "\\uDE42\\uD83D" });
        var raw = new RawBody(body);
        if (r.Coin(5))
        {
            raw.Prefix($"\"{escape}\": 1");
            return Pick.Json("surrogates", $"key {escape}", path, raw);
        }

        var (parent, key) = Pick.StringField(r, path, body);
        raw.Set(key, $"\"x{escape}y\"", parent);
        return Pick.Json("surrogates", $"{key} holds {escape}", path, raw);
    }

    public static FuzzCase Nul(Random r, FuzzContext c)
    {
        var (path, body) = c.AnyBody(r);
        var (parent, key) = Pick.StringField(r, path, body);
        var raw = new RawBody(body);
        var (what, bytes) = r.Next(3) switch
        {
            0 => ("escaped \\u0000", Pick.Utf8("\"a\\u0000b\"")),
            1 => ("a raw NUL byte in the string", new byte[] { (byte)'"', (byte)'a', 0, (byte)'b', (byte)'"' }),
            _ => ("a raw NUL byte outside strings", new byte[] { 0, (byte)'"', (byte)'a', (byte)'"' }),
        };
        raw.SetBytes(key, bytes, parent);
        return Pick.Json("nul-bytes", $"{key}: {what}", path, raw);
    }

    public static FuzzCase Logprobs(Random r, FuzzContext c)
    {
        var stream = r.Coin();
        var temperature = r.One(new[] { 0, 0.8, 1e-9, 2 });
        if (r.Coin())
        {
            var body = c.Completion(r);
            body["stream"] = stream;
            body["temperature"] = temperature;
            var value = r.One(new[] { "0", "1", "5", "20", "21", "-1", "true", "null" });
            var raw = new RawBody(body).Set("logprobs", value);
            var echo = r.Next(3) switch { 0 => "true", 1 => "false", _ => null };
            if (echo is not null)
            {
                raw.Set("echo", echo);
            }

            return Pick.Json("logprobs", $"completions logprobs={value} echo={echo ?? "-"} stream={stream} T={temperature}", Routes.Completions, raw);
        }

        var chat = c.Chat(r);
        chat["stream"] = stream;
        chat["temperature"] = temperature;
        var logprobs = r.One(new[] { "true", "false", "null", "1" });
        var chatRaw = new RawBody(chat).Set("logprobs", logprobs);
        var top = r.One(new string?[] { null, "0", "1", "20", "21", "-1" });
        if (top is not null)
        {
            chatRaw.Set("top_logprobs", top);
        }

        return Pick.Json("logprobs", $"chat logprobs={logprobs} top_logprobs={top ?? "-"} stream={stream} T={temperature}", Routes.Chat, chatRaw);
    }

    public static FuzzCase Messages(Random r, FuzzContext c)
    {
        var body = c.Chat(r);
        var (what, value) = r.One(new (string, Func<string>)[]
        {
            ("role bot", () => "[{\"role\": \"bot\", \"content\": \"hi\"}]"), ("role empty", () => "[{\"role\": \"\", \"content\": \"hi\"}]"),
            ("role USER", () => "[{\"role\": \"USER\", \"content\": \"hi\"}]"), ("content null", () => "[{\"role\": \"user\", \"content\": null}]"),
            ("content []", () => "[{\"role\": \"user\", \"content\": []}]"), ("text part", () => "[{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"hi\"}]}]"),
            ("image part", () => "[{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"x\"}}]}]"),
            ("part without text", () => "[{\"role\": \"user\", \"content\": [{\"type\": \"text\"}]}]"), ("part without type", () => "[{\"role\": \"user\", \"content\": [{\"text\": \"x\"}]}]"),
            ("content 1", () => "[{\"role\": \"user\", \"content\": 1}]"), ("content {}", () => "[{\"role\": \"user\", \"content\": {}}]"),
            ("[]", () => "[]"), ("[{}]", () => "[{}]"), ("no content", () => "[{\"role\": \"user\"}]"), ("object", () => "{\"role\": \"user\", \"content\": \"hi\"}"),
            ("2000 messages", () => "[" + string.Join(",", Enumerable.Repeat("{\"role\": \"user\", \"content\": \"hi\"}", 2000)) + "]"),
            ("200k-char content", () => "[{\"role\": \"user\", \"content\": \"" + new string('z', 200_000) + "\"}]"),
            ("system only", () => "[{\"role\": \"system\", \"content\": \"be brief\"}]"), ("assistant last", () => "[{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}]"),
            ("tool role", () => "[{\"role\": \"tool\", \"content\": \"42\"}]"), ("developer + name", () => "[{\"role\": \"developer\", \"content\": \"x\", \"name\": \"n\"}]"),
            ("tool_calls field", () => "[{\"role\": \"assistant\", \"content\": null, \"tool_calls\": []}]"),
            ("template markers", () => "[{\"role\": \"user\", \"content\": \"[INST] <<SYS>> <|im_start|> </s> <s>\"}]"),
        });
        return Pick.Json("messages", $"messages: {what}", Routes.Chat, new RawBody(body).Set("messages", value()));
    }
}
