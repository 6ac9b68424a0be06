using System.Text.Json;

namespace InferenceHost.Fuzz.Send;

/// <summary>Checks a whole <c>text/event-stream</c> body: only <c>data:</c> events, each JSON, ending with <c>data: [DONE]</c>.</summary>
public static class SseCheck
{
    /// <summary>Null when the stream is well formed; else what is wrong and whether it was cut short.</summary>
    public static (string Problem, bool Cut)? Problem(string body)
    {
        var events = body.Split("\n\n");
        if (events.Length < 2 || events[^1].Length != 0)
        {
            return (body.Length == 0 ? "empty stream" : "the stream does not end with a blank line after its last event", true);
        }

        var data = new List<string>();
        foreach (var e in events[..^1])
        {
            foreach (var line in e.Split('\n'))
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    return ($"a line that is not 'data: ...': {Excerpt(line)}", false);
                }

                data.Add(line[6..]);
            }
        }

        if (data[^1] != "[DONE]")
        {
            return ("the stream does not end with data: [DONE]", true);
        }

        foreach (var d in data[..^1])
        {
            if (d == "[DONE]")
            {
                return ("data: [DONE] before the last event", false);
            }

            try
            {
                using var doc = JsonDocument.Parse(d);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return ($"an event that is not a JSON object: {Excerpt(d)}", false);
                }
            }
            catch (JsonException)
            {
                return ($"an event that is not JSON: {Excerpt(d)}", false);
            }
        }

        return null;
    }

    public static string Excerpt(string s) => s.Length > 2000 ? s[..2000] + "..." : s;
}
