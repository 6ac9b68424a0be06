using System.Diagnostics;

namespace InferenceHost.Model.Kernels;

/// <summary>
/// Time the model spends in its matrix products — the linear modules' and the output head's, kernels and
/// libtorch alike, the LoRA deltas not included — so <c>bench</c> can show how much of a decode step lies
/// outside them. Off by default: then a product pays one static read and no clock. On the CPU libtorch's
/// products are synchronous, so the clock sees their whole time; on CUDA it sees only the launch.
/// </summary>
public static class ProductClock
{
    private static long ticks;
    private static long handOffs;

    /// <summary>Whether products are timed (a benchmark turns it on around its steps).</summary>
    public static bool Enabled { get; set; }

    /// <summary>A timestamp to pass to <see cref="Stop"/>, or 0 when the clock is off.</summary>
    public static long Start() => Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Adds the time since <paramref name="start"/> as one product call (one pool hand-off or one libtorch product); nothing when it is 0.</summary>
    public static void Stop(long start)
    {
        if (start != 0)
        {
            Interlocked.Add(ref ticks, Stopwatch.GetTimestamp() - start);
            Interlocked.Increment(ref handOffs);
        }
    }

    /// <summary>Time and calls counted since the last reset, then resets both.</summary>
    public static (TimeSpan Elapsed, long Calls) Take() =>
        (Stopwatch.GetElapsedTime(0, Interlocked.Exchange(ref ticks, 0)), Interlocked.Exchange(ref handOffs, 0));
}
