using InferenceHost.Model.Checkpoints;
using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>
/// Preallocated key/value cache: per layer one [rows, maxLength, kvHeads, headDim] tensor for keys
/// and one for values. A sequence owns one row for its lifetime (the engine hands rows out), so
/// sequences of different lengths can decode in one batch without any copying on admission.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor[] keys;
    private readonly Tensor[] values;

    public KvCache(LlamaConfig config, int rows, int maxLength, ScalarType dtype, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        Rows = rows;
        MaxLength = maxLength;
        keys = new Tensor[config.NumHiddenLayers];
        values = new Tensor[config.NumHiddenLayers];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = zeros(rows, maxLength, config.NumKeyValueHeads, config.HeadDim, dtype: dtype, device: device);
            values[i] = zeros(rows, maxLength, config.NumKeyValueHeads, config.HeadDim, dtype: dtype, device: device);
        }
    }

    public int Rows { get; }

    public int MaxLength { get; }

    public long Bytes => keys.Sum(k => k.NumberOfElements * k.ElementSize) * 2;

    /// <summary>Layer <paramref name="layer"/>'s keys, [rows, maxLength, kvHeads, headDim].</summary>
    public Tensor Keys(int layer) => keys[layer];

    /// <summary>Layer <paramref name="layer"/>'s values, [rows, maxLength, kvHeads, headDim].</summary>
    public Tensor Values(int layer) => values[layer];

    public void Dispose()
    {
        foreach (var t in keys.Concat(values))
        {
            t.Dispose();
        }
    }
}
