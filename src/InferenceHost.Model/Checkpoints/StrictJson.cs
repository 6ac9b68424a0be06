using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// JSON parsing for files we do not trust: the bytes must be valid UTF-8, strict JSON (no comments, no
/// trailing commas, nothing after the value), and no object may repeat a key. System.Text.Json would
/// silently keep the last of two equal keys, which lets one file mean two things to two readers.
/// </summary>
internal static class StrictJson
{
    public static JsonDocument Parse(string file, ReadOnlyMemory<byte> utf8, string what)
    {
        if (!Utf8.IsValid(utf8.Span))
        {
            throw new CheckpointException(file, $"{what} is not valid UTF-8");
        }

        if (FindDuplicateKey(file, utf8.Span, what) is { } duplicate)
        {
            throw new CheckpointException(file, $"{what} has the key \"{duplicate}\" twice in one object");
        }

        try
        {
            return JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new CheckpointException(file, $"{what} is not valid JSON: {e.Message}", e);
        }
    }

    public static JsonDocument ParseFile(string file, string what, long maxBytes = 64L << 20)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(file);
            if (!info.Exists)
            {
                throw new CheckpointException(file, $"{what} not found");
            }

            if (info.Length > maxBytes)
            {
                throw new CheckpointException(file, $"{what} is {info.Length} bytes, more than the {maxBytes} allowed");
            }

            bytes = File.ReadAllBytes(file);
        }
        catch (IOException e)
        {
            throw new CheckpointException(file, $"{what} cannot be read: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CheckpointException(file, $"{what} cannot be read: {e.Message}", e);
        }

        // A UTF-8 byte order mark is legal in a JSON file on disk; the reader does not accept it.
        var start = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? 3 : 0;
        return Parse(file, bytes.AsMemory(start), what);
    }

    /// <summary>The first key that appears twice in one object, or null.</summary>
    private static string? FindDuplicateKey(string file, ReadOnlySpan<byte> utf8, string what)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 64 });
        var scopes = new Stack<HashSet<string>?>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        scopes.Push(new HashSet<string>(StringComparer.Ordinal));
                        break;
                    case JsonTokenType.StartArray:
                        scopes.Push(null);
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        scopes.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        var key = reader.GetString()!;
                        if (!scopes.Peek()!.Add(key))
                        {
                            return key;
                        }

                        break;
                }
            }
        }
        catch (JsonException e)
        {
            throw new CheckpointException(file, $"{what} is not valid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // GetString on a string that is not valid after unescaping (a lone surrogate escape).
            throw new CheckpointException(file, $"{what} is not valid JSON: {e.Message}", e);
        }

        return null;
    }
}
