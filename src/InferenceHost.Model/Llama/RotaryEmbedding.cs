using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Kernels;
using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>
/// Rotate-half rotary position embedding (Hugging Face layout), with Llama 3.1 frequency scaling
/// when the config asks for it. The cos/sin tables are computed once in float32.
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    private readonly Tensor cos; // [maxPos, D]
    private readonly Tensor sin; // [maxPos, D]

    public RotaryEmbedding(LlamaConfig config, long maxPositions, Device device)
    {
        using var scope = NewDisposeScope();
        var d = config.HeadDim;
        var invFreq = InverseFrequencies(config, d); // [D/2], float64 for exact tables
        var t = arange(maxPositions, dtype: ScalarType.Float64);
        var freqs = outer(t, invFreq); // [maxPos, D/2]
        var emb = cat([freqs, freqs], -1); // [maxPos, D]
        cos = emb.cos().to_type(ScalarType.Float32).to(device).DetachFromDisposeScope();
        sin = emb.sin().to_type(ScalarType.Float32).to(device).DetachFromDisposeScope();
        MaxPositions = maxPositions;
    }

    public long MaxPositions { get; }

    private static Tensor InverseFrequencies(LlamaConfig config, long d)
    {
        var exponents = arange(0, d, 2, dtype: ScalarType.Float64) / d;
        var inv = 1.0 / pow(config.RopeTheta, exponents); // [D/2]
        var s = config.RopeScaling;
        if (s is null)
        {
            return inv;
        }

        var kind = s.RopeType ?? "default";
        switch (kind)
        {
            case "default":
                return inv;
            case "linear":
                return inv / s.Factor;
            case "llama3":
                {
                    // Llama 3.1: long wavelengths divided by factor, short kept, smooth blend between.
                    // Defaults as in Hugging Face's _compute_llama3_parameters.
                    double low = s.LowFreqFactor ?? 1, high = s.HighFreqFactor ?? 4, original = s.OriginalMaxPositionEmbeddings ?? 8192;
                    var lowWavelen = original / low;
                    var highWavelen = original / high;
                    var wavelen = 2 * Math.PI / inv;
                    var scaled = where(wavelen > lowWavelen, inv / s.Factor, inv);
                    var smooth = ((original / wavelen) - low) / (high - low);
                    var blended = (1 - smooth) * scaled / s.Factor + smooth * scaled;
                    var isMedium = (wavelen >= highWavelen).logical_and(wavelen <= lowWavelen);
                    return where(isMedium, blended, scaled);
                }

            default:
                throw new CheckpointException("config.json", $"rope_scaling type '{kind}' is not supported (supported: default, linear, llama3)");
        }
    }

    /// <summary>
    /// Applies the rotation to <paramref name="x"/> [B, T, heads, D] at <paramref name="positions"/> [B, T]; with
    /// <paramref name="kernels"/> a decode-sized step runs as one pass (<see cref="RowKernels.Rope"/>, the same
    /// float32 operations, so the same bits).
    /// </summary>
    public Tensor Apply(Tensor x, Tensor positions, bool kernels = false)
    {
        if (kernels && RowKernels.Applies(x) && cos.device_type == TorchSharp.DeviceType.CPU && positions.is_contiguous())
        {
            return RowKernels.Rope(x, positions, cos, sin);
        }

        using var scope = NewDisposeScope();
        // float32: rotations in half precision drift visibly at long positions.
        var c = cos.index_select(0, positions.flatten()).view(positions.shape[0], positions.shape[1], 1, -1); // [B, T, 1, D]
        var s = sin.index_select(0, positions.flatten()).view(positions.shape[0], positions.shape[1], 1, -1); // [B, T, 1, D]
        var xf = x.to_type(ScalarType.Float32);
        var half = x.shape[^1] / 2;
        var x1 = xf.narrow(-1, 0, half);
        var x2 = xf.narrow(-1, half, half);
        var rotated = cat([-x2, x1], -1); // rotate_half
        return (xf * c + rotated * s).to_type(x.dtype).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        cos.Dispose();
        sin.Dispose();
    }
}
