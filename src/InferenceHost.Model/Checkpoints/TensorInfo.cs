namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// One tensor as a safetensors header describes it. <see cref="Begin"/> and <see cref="End"/> are byte
/// offsets into the data region (the bytes after the 8-byte length and the JSON header).
/// </summary>
public sealed record TensorInfo(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ByteCount => End - Begin;

    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
