using System.Text.Json;

namespace InferenceHost.Apis.Requests;

/// <summary>
/// No request list holds <c>null</c> (prompts, token lists, stops, messages, content parts, adapters), but
/// System.Text.Json puts a JSON <c>null</c> element into a list of objects as is, and the handler then fails with a
/// NullReferenceException (a 500). One pass over the body finds the first such element, to refuse it by its path.
/// </summary>
internal static class NullElements
{
    /// <summary>The path of the first <c>null</c> inside a list (<c>adapters[0]</c>), or null; invalid JSON is left to the parser.</summary>
    public static string? Find(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = RequestJson.Options.MaxDepth });
        var stack = new List<Frame>(); // each open container, with the path segment that leads to it
        string? property = null;
        try
        {
            while (reader.Read())
            {
                var token = reader.TokenType;
                if (token == JsonTokenType.PropertyName)
                {
                    property = reader.GetString();
                    continue;
                }

                var segment = stack.Count == 0 ? string.Empty : stack[^1].IsArray ? $"[{stack[^1].Index + 1}]" : "." + property;
                if (stack.Count > 0 && stack[^1].IsArray && token is not (JsonTokenType.EndArray or JsonTokenType.EndObject))
                {
                    stack[^1] = stack[^1] with { Index = stack[^1].Index + 1 };
                }

                if (token == JsonTokenType.Null && stack.Count > 0 && stack[^1].IsArray)
                {
                    return (string.Concat(stack.Select(f => f.Segment)) + segment).TrimStart('.');
                }

                if (token is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    stack.Add(new Frame(token == JsonTokenType.StartArray, -1, segment));
                }
                else if (token is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    stack.RemoveAt(stack.Count - 1);
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null; // invalid JSON, or a name with a lone surrogate: the parser refuses it with its own message
        }

        return null;
    }

    private readonly record struct Frame(bool IsArray, int Index, string Segment);
}
