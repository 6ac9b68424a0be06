using System.Runtime.InteropServices;

namespace InferenceHost.Model.Kernels;

/// <summary>
/// How long libtorch's OpenMP threads (GNU libgomp on Linux) spin after a parallel region before they sleep.
/// libgomp's default is 300,000 spins, a millisecond or more: after every libtorch operation of a decode step
/// one of its threads keeps a core busy while the <see cref="KernelPool"/> wants every core for the next matrix
/// product, so on a 2-core machine the products ran at about two-thirds of their speed. 10,000 spins lets a
/// region that follows at once (prefill, large batches on libtorch) still find its threads awake. Measured
/// on TinyLlama's shape, 2 cores, two alternations (docs/benchmarks.md): batch-1 decode 5.3–5.5 → 6.4–6.5
/// tok/s in float32, 6.7–7.1 → 9.3–10.4 in bfloat16; batch 8 and prefill no slower. libgomp reads the setting once, when
/// libtorch loads, so this must run before the first tensor; a value the user set (GOMP_SPINCOUNT or
/// OMP_WAIT_POLICY) is left alone.
/// </summary>
public static partial class OpenMpSpin
{
    public const string SpinCount = "10000";

    /// <summary>Sets GOMP_SPINCOUNT for this process unless the user chose a wait policy; Linux only (elsewhere a no-op).</summary>
    /// <returns>Whether it set the variable.</returns>
    public static bool Limit()
    {
        // Once per process: setenv is not safe against other threads reading the environment, and a test host
        // runs the server's Program many times in one busy process.
        if (!OperatingSystem.IsLinux()
            || Interlocked.Exchange(ref done, 1) == 1
            || Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is not null
            || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null)
        {
            return false;
        }

        // The native environment, which libgomp reads (Environment.SetEnvironmentVariable changes only .NET's copy on Unix).
        return SetEnv("GOMP_SPINCOUNT", SpinCount, 0) == 0;
    }

    private static int done;

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
