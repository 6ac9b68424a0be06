using System.Diagnostics;
using System.Text.Json;
using InferenceHost.CommandLine;
using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Tools.Checks;

/// <summary>
/// <c>device-probe [--device cuda] [--out FILE]</c>: does TorchSharp's native library work against the libtorch it
/// found, on that device? Reports the TorchSharp build, CUDA availability and device count, a float32 and a bfloat16
/// matrix product on the device against the same product on the CPU, and the device's copy bandwidth. Exit code 1
/// when a product disagrees with the CPU.
/// </summary>
public static class DeviceProbeCommand
{
    public static int Run(CliArgs args, TextWriter stdout)
    {
        var deviceName = args.Get("device") ?? "cpu";
        var outFile = args.Get("out");
        var device = DeviceOption.Parse(deviceName);

        var fp32 = ProductError(device, ScalarType.Float32);
        var bf16 = ProductError(device, ScalarType.BFloat16);
        var bandwidth = CopyBandwidth(device, 1L << 30);
        var ok = fp32 < 1e-3 && bf16 < 0.1;
        var report = new
        {
            verb = "device-probe",
            device = deviceName,
            torchsharp = typeof(torch).Assembly.GetName().Version?.ToString(),
            torchsharp_libtorch_package = __version__,
            cuda_available = cuda.is_available(),
            cuda_device_count = cuda.is_available() ? cuda.device_count() : 0,
            cudnn_available = cuda.is_available() && cuda.is_cudnn_available(),
            torch_threads = get_num_threads(),
            matmul_1024_fp32_max_rel_error_vs_cpu = fp32,
            matmul_1024_bf16_max_rel_error_vs_cpu_fp32 = bf16,
            copy_bandwidth_gb_per_s = bandwidth / 1e9,
            ok,
        };
        var text = JsonSerializer.Serialize(report, ConformanceCommand.Json);
        stdout.WriteLine(text);
        if (outFile is not null)
        {
            File.WriteAllText(outFile, text);
        }

        return ok ? 0 : 1;
    }

    /// <summary>max |device product − CPU float32 product| / max |CPU product| for seeded 1024×1024 operands.</summary>
    private static double ProductError(Device device, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7, CPU);
        var a = randn(1024, 1024, generator: generator);
        var b = randn(1024, 1024, generator: generator);
        var expected = a.matmul(b);
        var got = a.to(dtype, device).matmul(b.to(dtype, device)).to(ScalarType.Float32, CPU);
        return (got - expected).abs().max().item<float>() / expected.abs().max().item<float>();
    }

    /// <summary>Read + write bytes per second of a device-to-device copy of <paramref name="bytes"/> bytes; best of 5.</summary>
    public static double CopyBandwidth(Device device, long bytes)
    {
        using var scope = NewDisposeScope();
        var src = ones(bytes / 4, dtype: ScalarType.Float32, device: device);
        var dst = empty_like(src);
        dst.copy_(src); // touch the pages first
        DeviceOption.Synchronize(device);
        var best = double.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            dst.copy_(src);
            DeviceOption.Synchronize(device);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }

        return 2.0 * bytes / best;
    }
}
