using InferenceHost.CommandLine;
using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Tools.Checks;

/// <summary>
/// The <c>--device cpu|cuda|cuda:N</c> option of the check and bench verbs. CUDA is initialised here, once, so a
/// missing or unloadable CUDA libtorch stops the verb with TorchSharp's own load trace instead of failing later
/// inside a tensor call.
/// </summary>
public static class DeviceOption
{
    public static Device Parse(string? name)
    {
        name ??= "cpu";
        if (name == "cpu")
        {
            return CPU;
        }

        if (name != "cuda" && !(name.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(name[5..], out _)))
        {
            throw new CliException($"--device: '{name}' is not cpu, cuda or cuda:N");
        }

        try
        {
            InitializeDeviceType(DeviceType.CUDA);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or DllNotFoundException)
        {
            throw new CliException($"--device {name}: CUDA did not initialise: {e.Message}");
        }

        return device(name);
    }

    /// <summary>Waits for queued device work, so a wall-clock timer around it measures the work (no-op on the CPU).</summary>
    public static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }
    }
}
