using System.Text;

namespace InferenceHost.LoadTests.Client;

/// <summary>
/// Incremental Server-Sent Events parser: feed it bytes as they arrive (split anywhere, even inside a UTF-8
/// character or between \r and \n) and it returns the data payload of each complete event. Multiple
/// <c>data:</c> lines of one event are joined with \n; comments (":") and other fields are ignored.
/// </summary>
public sealed class SseParser
{
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _line = new();
    private readonly StringBuilder _data = new();
    private bool _hasData;
    private bool _lastWasCr;
    private char[] _chars = new char[4096];

    public IReadOnlyList<string> Feed(ReadOnlySpan<byte> bytes)
    {
        var events = new List<string>();
        int needed = _decoder.GetCharCount(bytes, flush: false);
        if (needed > _chars.Length)
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        int n = _decoder.GetChars(bytes, _chars, flush: false);
        for (int i = 0; i < n; i++)
        {
            char c = _chars[i];
            if (c == '\n' && _lastWasCr)
            {
                _lastWasCr = false; // second half of \r\n: the line already ended at \r
                continue;
            }
            _lastWasCr = c == '\r';
            if (c == '\r' || c == '\n')
                EndLine(events);
            else
                _line.Append(c);
        }
        return events;
    }

    /// <summary>Call at end of stream: an event not terminated by a blank line is still delivered.</summary>
    public IReadOnlyList<string> Flush()
    {
        var events = new List<string>();
        if (_line.Length > 0)
            EndLine(events);
        if (_hasData)
            Dispatch(events);
        return events;
    }

    private void EndLine(List<string> events)
    {
        string line = _line.ToString();
        _line.Clear();
        if (line.Length == 0)
        {
            if (_hasData)
                Dispatch(events);
            return;
        }
        if (line[0] == ':')
            return;
        int colon = line.IndexOf(':');
        string field = colon < 0 ? line : line[..colon];
        if (field != "data")
            return;
        string value = colon < 0 ? "" : line[(colon + 1)..];
        if (value.StartsWith(' '))
            value = value[1..];
        if (_hasData)
            _data.Append('\n');
        _data.Append(value);
        _hasData = true;
    }

    private void Dispatch(List<string> events)
    {
        events.Add(_data.ToString());
        _data.Clear();
        _hasData = false;
    }
}
