using System.Text.Json.Nodes;

namespace InferenceHost.Fuzz.Cases;

/// <summary>Mutations of one field's value: wrong types, numeric extremes, sampling extremes, unknown fields, duplicates.</summary>
internal static class FieldFamilies
{
    private static readonly string[] WrongTypes =
        ["\"x\"", "\"\"", "0", "-1", "1.5", "true", "false", "null", "[]", "[1,2]", "[\"a\"]", "{}", "{\"a\":1}", "\"1\"", "[[]]", "[null]"];

    private static readonly string[] Extremes =
    [
        "1e308", "-1e308", "1.7976931348623157e308", "1e999", "-1e999", "-0", "-0.0", "5e-324", "1e-400", "9223372036854775807",
        "9223372036854775808", "-9223372036854775809", "18446744073709551616", "2147483647", "2147483648", "-2147483649",
        "123456789012345678901234567890", "1.0000000000000002", "1E+2", "NaN", "Infinity", "-Infinity", "\"NaN\"", "\"Infinity\"",
        "\"-0\"", "\"1e308\"", "0x10", "01", "+1", ".5", "1.",
    ];

    public static FuzzCase WrongType(Random r, FuzzContext c)
    {
        var (path, body) = c.AnyBody(r);
        var field = r.One(Pick.Fields(path, body));
        var value = r.One(WrongTypes);
        return Pick.Json("wrong-types", $"{field}={value}", path, new RawBody(body).Set(field, value));
    }

    public static FuzzCase NumericExtreme(Random r, FuzzContext c)
    {
        var (path, body) = r.Coin(3) ? (Routes.Chat, c.Chat(r)) : (Routes.Completions, c.Completion(r));
        var raw = new RawBody(body);
        var value = r.One(Extremes);
        string field;
        if (r.Coin(6) && c.Loras.Count > 0)
        {
            field = "adapters[0].weight";
            var entry = new JsonObject { ["name"] = r.One(c.Loras) };
            body["adapters"] = new JsonArray(entry);
            raw.Set("weight", value, entry);
        }
        else
        {
            string[] fields = path == Routes.Chat ? [.. Pick.NumericFields, "max_completion_tokens", "top_logprobs"] : [.. Pick.NumericFields, "logprobs", "best_of"];
            field = r.One(fields);
            raw.Set(field, value);
        }

        return Pick.Json("numeric-extremes", $"{field}={value}", path, raw);
    }

    public static FuzzCase HugeCounts(Random r, FuzzContext c)
    {
        var body = c.Completion(r);
        string what;
        switch (r.Next(4))
        {
            case 0:
                var n = r.One(new long[] { 0, 64, 128, 129, 256, 1_000_000, 2_147_483_647, 4_294_967_296 });
                body["n"] = n;
                body["max_tokens"] = 1;
                what = $"n={n}";
                break;
            case 1:
                var max = r.One(new long[] { 0, -1, 1 << 24, (1 << 24) + 1, int.MaxValue, 1L << 40 });
                body["max_tokens"] = max;
                what = $"max_tokens={max}";
                break;
            case 2:
                var prompts = r.Next(2, 4);
                body["prompt"] = new JsonArray(Enumerable.Range(0, prompts).Select(_ => (JsonNode)FuzzContext.Prompt(r)).ToArray());
                body["n"] = 128;
                body["max_tokens"] = 1;
                what = $"{prompts} prompts x n=128";
                break;
            default:
                body["n"] = r.Next(2, 9);
                body["max_tokens"] = 1 << 24;
                body["stream"] = true;
                what = $"n={body["n"]} x max_tokens=2^24, streamed";
                break;
        }

        return Pick.Json("huge-n-max-tokens", what, Routes.Completions, body);
    }

    public static FuzzCase SamplingExtreme(Random r, FuzzContext c)
    {
        var (path, body) = r.Coin() ? (Routes.Chat, c.Chat(r)) : (Routes.Completions, c.Completion(r));
        var raw = new RawBody(body);
        var parts = new List<string>();
        void Put(string field, string value)
        {
            raw.Set(field, value);
            parts.Add($"{field}={value}");
        }

        Put("temperature", r.One(new[] { "1e-9", "1e-5", "1e-6", "1e-300", "5e-324", "1e-45", "2", "2.0000000001", "0", "-0.0", "0.5" }));
        if (r.Coin())
        {
            Put("top_p", r.One(new[] { "5e-324", "1e-300", "1e-9", "0", "1", "1.0000001", "0.5" }));
        }

        if (r.Coin())
        {
            Put("top_k", r.One(new[] { "1", "2", "0", "-1", "-2", "1048576", "1048577", "32000", "32001", "2147483647" }));
        }

        if (r.Coin(3))
        {
            Put("seed", r.One(new[] { "0", "-1", "9223372036854775807", "-9223372036854775808", "9223372036854775808" }));
        }

        if (r.Coin(3))
        {
            Put("n", r.Next(1, 5).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return Pick.Json("sampling-extremes", string.Join(' ', parts), path, raw);
    }

    public static FuzzCase UnknownField(Random r, FuzzContext c)
    {
        var (path, body) = c.AnyBody(r);
        var (field, value) = r.One(new (string, string)[]
        {
            ("foo", "1"), ("functions", "[]"), ("function_call", "\"auto\""), ("logit_bias", "{\"1\": 5}"), ("logit_bias", "{}"),
            ("frequency_penalty", "0.5"), ("frequency_penalty", "0"), ("presence_penalty", "2"), ("suffix", "\"x\""), ("best_of", "2"),
            ("best_of", "1"), ("tools", "[{\"type\": \"function\"}]"), ("tools", "[]"), ("tool_choice", "\"none\""),
            ("response_format", "{\"type\": \"json_object\"}"), ("response_format", "{\"type\": \"text\"}"),
            ("stream_options", "{\"include_usage\": true, \"foo\": 1}"), ("stream_options", "{\"include_usage\": true}"),
            ("metadata", "{\"k\": [1, {\"x\": null}]}"), ("store", "true"), ("service_tier", "\"auto\""), ("", "1"), ("prompt ", "\"x\""),
            ("__proto__", "{}"), ("guided_json", "{}"), ("priority", "1"), ("min_p", "0.1"), ("repetition_penalty", "1.1"),
            ("parallel_tool_calls", "true"), ("Model", "\"x\""), ("MAX_TOKENS", "3"), ("user", "5"), ("echo", "true"),
        });
        return Pick.Json("unknown-fields", $"{field}={value}", path, new RawBody(body).Set(field, value));
    }

    public static FuzzCase DuplicateKey(Random r, FuzzContext c)
    {
        var (path, body) = c.AnyBody(r);
        var raw = new RawBody(body);
        if (path == Routes.Chat && r.Coin(3))
        {
            var message = (JsonObject)body["messages"]![0]!;
            raw.Set("content", "\"hi\", \"content\": \"again\"", message);
            return Pick.Json("duplicate-keys", "messages[0].content twice", path, raw);
        }

        var key = r.One(body.Select(kv => kv.Key).ToArray());
        var value = r.One(new[] { "\"x\"", "1", "true", "null", body[key]?.ToJsonString() ?? "null" });
        raw.Prefix($"\"{key}\": {value}");
        return Pick.Json("duplicate-keys", $"{key} twice ({value} first)", path, raw);
    }

    public static FuzzCase AdaptersField(Random r, FuzzContext c)
    {
        var body = r.Coin() ? c.Completion(r) : c.Chat(r);
        var path = body.ContainsKey("prompt") ? Routes.Completions : Routes.Chat;
        var lora = c.Loras.Count > 0 ? r.One(c.Loras) : "missing";
        var soft = c.SoftPrompts.Count > 0 ? r.One(c.SoftPrompts) : "missing";
        var value = r.One(new[]
        {
            $"[{{\"name\": \"{lora}\", \"weight\": 1e308}}]", $"[{{\"name\": \"{lora}\", \"weight\": -100}}]", $"[{{\"name\": \"{lora}\", \"weight\": 100.0001}}]",
            $"[{{\"name\": \"{lora}\", \"weight\": 0}}]", $"[{{\"name\": \"{lora}\", \"weight\": -0.0}}]", $"[{{\"name\": \"{lora}\", \"weight\": 1e-300}}]",
            $"[{{\"name\": \"{lora}\", \"weight\": \"1\"}}]", "[]", "[{}]", "[{\"name\": \"missing\"}]", "[{\"name\": \"\"}]", "[null]",
            $"[{{\"name\": \"{lora}\"}}, {{\"name\": \"{lora}\"}}]", $"[{{\"name\": \"{soft}\"}}, {{\"name\": \"{soft}\"}}]",
            $"[{{\"name\": \"{lora}\"}}, {{\"name\": \"{soft}\"}}]", $"[{{\"name\": \"{c.BaseModel}\"}}]", $"\"{lora}\"", $"{{\"name\": \"{lora}\"}}",
            $"[{{\"name\": \"{lora}\", \"extra\": 1}}]", "[" + string.Join(", ", c.Loras.Select(l => $"{{\"name\": \"{l}\", \"weight\": 0.5}}")) + "]",
            "[" + string.Join(", ", Enumerable.Repeat($"{{\"name\": \"{lora}\"}}", 200)) + "]",
        });
        if (r.Coin(3))
        {
            body["model"] = lora;
        }

        return Pick.Json("adapters-field", $"adapters={(value.Length > 80 ? value[..80] + "..." : value)}", path, new RawBody(body).Set("adapters", value));
    }
}
