using InferenceHost.Apis;
using InferenceHost.Hosting;

namespace InferenceHost.Api.Tests;

/// <summary>Paths the fuzzer found answering 500: link loops made Canonical throw an IOException nobody caught.</summary>
public sealed class PathGuardTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("pathguard-").FullName;

    [Fact]
    public void A_directory_link_loop_is_a_400_naming_the_path()
    {
        Directory.CreateSymbolicLink(Path.Combine(root, "a"), Path.Combine(root, "b"));
        Directory.CreateSymbolicLink(Path.Combine(root, "b"), Path.Combine(root, "a"));
        var e = Assert.Throws<ApiException>(() => PathGuard.CheckAdapterDirectory(Path.Combine(root, "a"), [root], "path"));
        Assert.Equal(400, e.Status);
        Assert.Equal("path", e.Param);
        Assert.Contains("cannot be resolved", e.Message);
    }

    [Fact]
    public void A_file_link_loop_inside_the_adapter_is_a_400()
    {
        var dir = Directory.CreateDirectory(Path.Combine(root, "adapter")).FullName;
        File.CreateSymbolicLink(Path.Combine(dir, "adapter_model.safetensors"), Path.Combine(dir, "adapter_model.safetensors"));
        var e = Assert.Throws<ApiException>(() => PathGuard.CheckAdapterDirectory(dir, [root], "lora_path"));
        Assert.Equal(400, e.Status);
        Assert.Equal("lora_path", e.Param);
    }

    [Fact]
    public void A_path_over_path_max_is_refused_before_it_is_resolved()
    {
        var e = Assert.Throws<ApiException>(() => PathGuard.CheckAdapterDirectory(root + string.Concat(Enumerable.Repeat("/a", 3000)), [root], "path"));
        Assert.Equal(400, e.Status);
        Assert.Contains("4096", e.Message);
    }

    [Fact]
    public void A_valid_directory_inside_the_root_still_passes()
    {
        var dir = Directory.CreateDirectory(Path.Combine(root, "ok")).FullName;
        Assert.Equal(PathGuard.Canonical(dir), PathGuard.CheckAdapterDirectory(dir, [PathGuard.Canonical(root)], "path"));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);
}
