namespace InferenceHost.Adapters;

/// <summary>An adapter that cannot be used; the message names the adapter and the field or file at fault.</summary>
public sealed class AdapterException : Exception
{
    public AdapterException(string adapter, string field, string problem, Exception? inner = null)
        : base($"adapter '{adapter}': {field}: {problem}", inner)
    {
        Adapter = adapter;
        Field = field;
    }

    public string Adapter { get; }

    public string Field { get; }
}
