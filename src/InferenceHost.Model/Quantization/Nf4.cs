namespace InferenceHost.Model.Quantization;

/// <summary>QLoRA's NormalFloat4 code book (Dettmers et al. 2023; bitsandbytes' table): quantiles of N(0, 1) scaled to [-1, 1], with an exact 0.</summary>
public static class Nf4
{
    public static readonly float[] Table =
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    ];

    /// <summary>Midpoints between neighbouring codes: a normalized weight's nearest code is how many of these lie below it.</summary>
    public static readonly float[] Midpoints = Enumerable.Range(0, 15).Select(i => (Table[i] + Table[i + 1]) / 2).ToArray();
}
