using System.Runtime.InteropServices;
using InferenceHost.Model.Kernels;

namespace InferenceHost.Model.Tests.Kernels;

/// <summary>The spin limit reaches the native environment that libgomp reads (not only .NET's copy of it), and a user's choice wins.</summary>
public sealed partial class OpenMpSpinTests
{
    [Fact]
    public void The_limit_is_set_in_the_native_environment_unless_the_user_chose_one()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.False(OpenMpSpin.Limit());
            return;
        }

        var user = Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") ?? Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        OpenMpSpin.Limit(); // this process's first call (or a later one, which does nothing)
        Assert.False(OpenMpSpin.Limit(), "a second call sets nothing");
        if (user is null)
        {
            Assert.Equal(OpenMpSpin.SpinCount, Marshal.PtrToStringUTF8(GetEnv("GOMP_SPINCOUNT")));
        }
        else if (Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is { } userCount)
        {
            Assert.Equal(userCount, Marshal.PtrToStringUTF8(GetEnv("GOMP_SPINCOUNT"))); // the user's value stays
        }
    }

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetEnv(string name);
}
