using TorchSharp;

namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// The safetensors dtype names, their element sizes and their TorchSharp scalar types.
/// The order of <see cref="Rank"/> is the Rust library's <c>Dtype</c> declaration order, which its writer
/// sorts by (largest first), so files we write lay out like files the Python library writes.
/// </summary>
public static class SafetensorsDType
{
    private static readonly (string Name, int Size, torch.ScalarType? Scalar)[] Table =
    [
        ("BOOL", 1, torch.ScalarType.Bool),
        ("U8", 1, torch.ScalarType.Byte),
        ("I8", 1, torch.ScalarType.Int8),
        ("F8_E5M2", 1, null),
        ("F8_E4M3", 1, null),
        ("I16", 2, torch.ScalarType.Int16),
        ("U16", 2, null),
        ("F16", 2, torch.ScalarType.Float16),
        ("BF16", 2, torch.ScalarType.BFloat16),
        ("I32", 4, torch.ScalarType.Int32),
        ("U32", 4, null),
        ("F32", 4, torch.ScalarType.Float32),
        ("F64", 8, torch.ScalarType.Float64),
        ("I64", 8, torch.ScalarType.Int64),
        ("U64", 8, null),
    ];

    public static IReadOnlyCollection<string> Names { get; } = Table.Select(t => t.Name).ToArray();

    /// <summary>Element size in bytes, or null when the name is not a safetensors dtype.</summary>
    public static int? SizeOf(string dtype)
    {
        foreach (var t in Table)
        {
            if (t.Name == dtype)
            {
                return t.Size;
            }
        }

        return null;
    }

    /// <summary>The TorchSharp type for a dtype name, or null when TorchSharp has none (U16, F8, ...).</summary>
    public static torch.ScalarType? ToScalarType(string dtype)
    {
        foreach (var t in Table)
        {
            if (t.Name == dtype)
            {
                return t.Scalar;
            }
        }

        return null;
    }

    /// <summary>The dtype name for a TorchSharp type; throws for types safetensors cannot hold.</summary>
    public static string FromScalarType(torch.ScalarType scalar)
    {
        foreach (var t in Table)
        {
            if (t.Scalar == scalar)
            {
                return t.Name;
            }
        }

        throw new ArgumentException($"safetensors has no dtype for {scalar}", nameof(scalar));
    }

    internal static int Rank(string dtype) => Array.FindIndex(Table, t => t.Name == dtype);
}
