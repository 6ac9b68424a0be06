using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;

namespace InferenceHost.Apis.Requests;

/// <summary>
/// Reads a request body into its typed record with System.Text.Json's strict settings: unknown fields,
/// duplicate fields, wrong types, numbers given as strings, lone UTF-16 surrogates and NUL characters are all
/// 400s naming the field. Bodies over the limit are 413; bodies that are not UTF-8 or not a JSON object, 400.
/// </summary>
public static partial class RequestJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        AllowDuplicateProperties = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        MaxDepth = 32,
        Converters = { new CleanStringConverter() },
    };

    public static async Task<T> ReadAsync<T>(HttpContext context, long maxBytes)
        where T : class
    {
        var bytes = await ReadBodyAsync(context, maxBytes);
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            throw ApiException.BadRequest("the request body is not valid UTF-8", code: "invalid_utf8");
        }

        if (NullElements.Find(bytes) is { } nullAt)
        {
            throw ApiException.BadRequest($"'{nullAt}' is null; lists take no null entries", nullAt, "invalid_value");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(bytes, Options) ?? throw ApiException.BadRequest("the request body must be a JSON object", code: "invalid_json");
        }
        catch (JsonException e)
        {
            throw Refusal(e);
        }
    }

    /// <summary>A 400 naming the field System.Text.Json stopped at (its JSON path without the leading <c>$.</c>).</summary>
    private static ApiException Refusal(JsonException e)
    {
        var path = e.Path is { Length: > 1 } p ? p.TrimStart('$').TrimStart('.') : null;
        var why = WithoutPath(e.Message);
        if (e.InnerException is InvalidOperationException inner)
        {
            why = inner.Message; // e.g. "Cannot read invalid UTF-16 JSON text as string"
        }

        if (MissingRequired().Match(why) is { Success: true } missing)
        {
            path = string.IsNullOrEmpty(path) ? missing.Groups[1].Value : $"{path}.{missing.Groups[1].Value}";
            return ApiException.BadRequest($"'{path}' is required", path, "missing_required_parameter");
        }

        return string.IsNullOrEmpty(path)
            ? ApiException.BadRequest($"the request body is not a valid request: {why}", code: "invalid_json")
            : ApiException.BadRequest($"'{path}' is invalid: {why}", path, "invalid_value");
    }

    /// <summary>Reads a value inside a converter; an error keeps the outer path (a nested call would restart it at <c>$</c>).</summary>
    public static T Nested<T>(ref Utf8JsonReader reader, JsonSerializerOptions options)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(ref reader, options)!;
        }
        catch (JsonException e)
        {
            throw new JsonException(WithoutPath(e.Message), e.InnerException);
        }
    }

    private static string WithoutPath(string message) => message.Split(" Path: ", 2)[0];

    [System.Text.RegularExpressions.GeneratedRegex("missing required properties including: '([^']+)'")]
    private static partial System.Text.RegularExpressions.Regex MissingRequired();

    private static async Task<byte[]> ReadBodyAsync(HttpContext context, long maxBytes)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            throw new ApiException(413, $"request body is {context.Request.ContentLength} bytes; the limit is {maxBytes} (Server:MaxRequestBodyBytes)", code: "request_too_large");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    throw new ApiException(413, $"request body exceeds {maxBytes} bytes (Server:MaxRequestBodyBytes)", code: "request_too_large");
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode != StatusCodes.Status413PayloadTooLarge)
        {
            // Kestrel's framing errors (bad chunk sizes, a body shorter than its Content-Length): its status, our error body.
            throw new ApiException(e.StatusCode, $"the request body could not be read: {e.Message}", code: "invalid_body");
        }
        catch (IOException e) when (!context.RequestAborted.IsCancellationRequested)
        {
            // A chunk size that overflows arrives as an IOException wrapping an OverflowException.
            throw ApiException.BadRequest($"the request body could not be read: {e.Message}", code: "invalid_body");
        }

        return buffer.ToArray();
    }

    /// <summary>Every string field: well-formed UTF-16 (System.Text.Json refuses lone surrogates itself) and no NUL characters.</summary>
    private sealed class CleanStringConverter : JsonConverter<string>
    {
        public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new JsonException($"expected a string, got {Describe(reader.TokenType)}");
            }

            var s = reader.GetString()!;
            return s.Contains('\0', StringComparison.Ordinal) ? throw new JsonException("must not contain NUL characters") : s;
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }

    public static string Describe(JsonTokenType t) => t switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "a list",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => t.ToString(),
    };
}

/// <summary>A string or a list of strings (<c>stop</c>).</summary>
public sealed class StringOrListConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => [RequestJson.Nested<string>(ref reader, options)],
        JsonTokenType.StartArray => RequestJson.Nested<string[]>(ref reader, options),
        _ => throw new JsonException($"expected a string or a list of strings, got {RequestJson.Describe(reader.TokenType)}"),
    };

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options) => JsonSerializer.Serialize(writer, value.ToArray(), options);
}

/// <summary><c>POST /v1/adapters</c>.</summary>
public sealed record LoadAdapterRequest(string Name, string Path);

/// <summary>vLLM's <c>POST /v1/load_lora_adapter</c>.</summary>
public sealed record LoadLoraAdapterRequest(string LoraName, string LoraPath);

/// <summary>vLLM's <c>POST /v1/unload_lora_adapter</c>.</summary>
public sealed record UnloadLoraAdapterRequest(string LoraName);
