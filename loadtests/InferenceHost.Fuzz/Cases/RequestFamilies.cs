using System.Text.Json.Nodes;

namespace InferenceHost.Fuzz.Cases;

/// <summary>Mutations of the request around the JSON: bytes, truncation, content types, keys, methods, admin routes.</summary>
internal static class RequestFamilies
{
    private static readonly string[] AnyRoute = [Routes.Completions, Routes.Chat, Routes.Adapters, Routes.LoadLora, Routes.UnloadLora];

    public static FuzzCase RandomBytes(Random r, FuzzContext c)
    {
        var bytes = new byte[r.Next(0, 2048)];
        r.NextBytes(bytes);
        if (bytes.Length > 0 && r.Coin())
        {
            bytes[0] = (byte)'{';
        }

        return new() { Family = "random-bytes", Description = $"{bytes.Length} random bytes", Path = r.One(AnyRoute), Body = bytes };
    }

    public static FuzzCase Truncation(Random r, FuzzContext c)
    {
        var (path, body) = c.AnyBody(r);
        var bytes = new RawBody(body).Bytes();
        var cut = r.Next(0, bytes.Length);
        return new() { Family = "truncation", Description = $"cut at {cut} of {bytes.Length} bytes", Path = path, Body = bytes[..cut] };
    }

    public static FuzzCase ContentType(Random r, FuzzContext c)
    {
        var (path, json) = c.AnyBody(r);
        var body = new RawBody(json).Bytes();
        var (type, bytes) = r.One(new (string?, byte[])[]
        {
            ("text/plain", body), (null, body), ("application/x-www-form-urlencoded", body), ("multipart/form-data; boundary=x", body),
            ("application/json; charset=utf-16", body), ("application/json; charset=latin1", body), ("application/jsonx", body), ("*/*", body),
            ("", body), (new string('a', 10_000), body), ("application/json", []), ("application/json", Pick.Utf8("null")),
            ("application/json", Pick.Utf8("[]")), ("application/json", Pick.Utf8("1")), ("application/json", Pick.Utf8("\"str\"")),
            ("application/json", Pick.Utf8("{}")), ("application/json", [0xEF, 0xBB, 0xBF, .. body]),
            ("application/json; charset=utf-16", System.Text.Encoding.Unicode.GetBytes(System.Text.Encoding.UTF8.GetString(body))),
            ("application/json", [.. body, .. Pick.Utf8(" {}")]), ("application/json", [.. Pick.Utf8("  \r\n\t"), .. body, .. Pick.Utf8("\n\n")]),
        });
        var what = type is null ? "no Content-Type" : type.Length > 60 ? $"a {type.Length}-char Content-Type" : $"Content-Type '{type}'";
        return new() { Family = "content-types", Description = $"{what}, {bytes.Length}-byte body", Path = path, ContentType = type, Body = bytes };
    }

    public static FuzzCase Auth(Random r, FuzzContext c)
    {
        var (path, body) = c.AnyBody(r);
        var header = r.One(new string?[] { null, "Bearer wrong", "Basic eDp5", "Bearer ", "Bearer", "bearer x", new string('k', 20_000), "Bearer a b c" });
        return Pick.Json("auth", header is null ? "no Authorization" : $"Authorization '{(header.Length > 40 ? header[..40] + "..." : header)}'", path, body)
            with { SendAuth = header is not null, Authorization = header };
    }

    public static FuzzCase Methods(Random r, FuzzContext c)
    {
        var (method, path) = r.One(new (string, string)[]
        {
            ("GET", Routes.Completions), ("PUT", Routes.Chat), ("DELETE", Routes.Completions), ("PATCH", Routes.Adapters), ("OPTIONS", Routes.Chat),
            ("HEAD", Routes.Completions), ("POST", Routes.Completions + "/"), ("POST", "/V1/COMPLETIONS"), ("POST", "/v1//completions"),
            ("POST", Routes.Completions + "?stream=true&x=%00"), ("POST", "/v1/completions%00"), ("POST", "/v1/" + new string('a', 10_000)),
            ("POST", "/v1/models/x"), ("POST", Routes.Adapters + "/"), ("GET", "/v1/adapters/%2e%2e%2f%2e%2e"), ("GET", "/v1/models"),
            ("GET", "/v1/engine"), ("GET", "/metrics"), ("TRACE", Routes.Completions), ("POST", "/health/ready"),
        });
        var (_, body) = c.AnyBody(r);
        return Pick.Json("methods-routes", $"{method} {(path.Length > 60 ? path[..60] + "..." : path)}", path, body) with { Method = method };
    }

    public static FuzzCase Admin(Random r, FuzzContext c)
    {
        var root = c.AdapterRoot ?? "/tmp";
        var valid = c.ValidAdapterDir ?? root;
        var name = r.One(new[] { FuzzContext.OwnPrefix + r.Next(1000), "", " ", "a/b", "..", "../x", new string('n', 10_000), c.BaseModel, "名前", "a\\b", "fz-tab\t" });
        var path = r.One(new[]
        {
            valid, valid + "/", $"{valid}/../{Path.GetFileName(valid)}", "", "relative/dir", "/", "/etc", "/proc/self", "/dev/null", "/dev/zero", "~",
            root + "/" + new string('d', 300), root + "/" + new string('e', 5000), root + "/does-not-exist", valid + "/adapter_config.json",
        });
        switch (r.Next(5))
        {
            case 0:
                return Pick.Json("admin", $"load name={Short(name)} path={Short(path)}", Routes.Adapters, new JsonObject { ["name"] = name, ["path"] = path });
            case 1:
                return Pick.Json("admin", $"load_lora name={Short(name)} path={Short(path)}", Routes.LoadLora, new JsonObject { ["lora_name"] = name, ["lora_path"] = path });
            case 2:
                return Pick.Json("admin", $"unload_lora name={Short(name)}", Routes.UnloadLora, new JsonObject { ["lora_name"] = name });
            case 3:
                var segment = r.One(new[] { FuzzContext.OwnPrefix + r.Next(1000), "nonexistent", "%00", "%2F", "..%2F..", new string('a', 5000), "%ED%A0%80", "%FF", "%20" });
                return new() { Family = "admin", Description = $"DELETE /v1/adapters/{Short(segment)}", Method = "DELETE", Path = Routes.Adapters + "/" + segment, ContentType = null };
            default:
                var (route, body) = c.AdminLoad(r);
                return Pick.Json("admin", $"valid load of {body.First().Value} via {route}", route, body);
        }
    }

    private static string Short(string s) => s.Length > 40 ? $"{s[..20]}...({s.Length} chars)" : s;
}
