using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace InferenceHost.Model.Kernels;

/// <summary>
/// The address of a CPU tensor's first element, so kernels read and write the tensor's own memory.
/// TorchSharp keeps its data pointer internal (<c>data&lt;T&gt;()</c> allocates an accessor per call), so this
/// asks the same native library TorchSharp binds to (<c>THSTensor_data</c> = <c>at::Tensor::data_ptr()</c>,
/// storage offset included).
/// </summary>
internal static partial class TensorMemory
{
    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr handle);

    /// <summary>The first element of <paramref name="t"/>, which must be a contiguous CPU tensor of <paramref name="dtype"/>.</summary>
    public static unsafe void* Pointer(Tensor t, ScalarType dtype)
    {
        if (t.device_type != TorchSharp.DeviceType.CPU || t.dtype != dtype || !t.is_contiguous())
        {
            throw new ArgumentException($"kernel operand must be a contiguous CPU {dtype} tensor, got {t.dtype} on {t.device} (contiguous: {t.is_contiguous()})");
        }

        var p = THSTensor_data(t.Handle);
        if (p == IntPtr.Zero && t.NumberOfElements > 0)
        {
            throw new InvalidOperationException("THSTensor_data returned null for a non-empty tensor");
        }

        return (void*)p;
    }
}
