using InferenceHost.Model.Checkpoints;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Adapters.Tests;

/// <summary>The CPU registry: discovery, leases that outlive an unload, LRU of CPU copies, broken adapters listed.</summary>
public sealed class RegistryTests : IDisposable
{
    private readonly LlamaConfig config = LlamaConfig.Load(Path.Combine(TestFixtures.ModelDir("tiny-llama"), "config.json"));
    private readonly string temp = Directory.CreateTempSubdirectory("registry-tests-").FullName;

    [Fact]
    public void Discovery_names_adapters_after_their_directories_and_lists_broken_ones_with_their_error()
    {
        foreach (var name in new[] { "lora-qv", "soft-8" })
        {
            Copy(TestFixtures.AdapterDir("tiny-llama", name), Path.Combine(temp, name));
        }

        Directory.CreateDirectory(Path.Combine(temp, "broken"));
        File.WriteAllText(Path.Combine(temp, "broken", "adapter_config.json"), "{ not json");
        using var registry = new AdapterRegistry(config, "tiny-llama", 4, 64);
        var errors = registry.Discover(temp);
        Assert.Equal(["lora-qv", "soft-8"], registry.Names);
        Assert.Contains("'broken'", Assert.Single(errors).Message);
        var broken = registry.Info("broken")!;
        Assert.NotNull(broken.Error);
        Assert.Null(registry.Acquire("broken"));
        Assert.Equal(AdapterKind.SoftPrompt, registry.Info("soft-8")!.Kind);
        Assert.Equal(8, registry.Info("lora-qv")!.Rank);
        Assert.Equal(["q_proj", "v_proj"], registry.Info("lora-qv")!.Targets);
    }

    [Fact]
    public void An_adapter_in_use_stays_alive_after_unload_until_its_lease_ends()
    {
        using var registry = new AdapterRegistry(config, "tiny-llama", 4, 64);
        registry.Register("qv", TestFixtures.AdapterDir("tiny-llama", "lora-qv"));
        var lease = registry.Acquire("qv")!;
        var lora = (LoraAdapter)lease.Adapter;
        Assert.True(registry.Unregister("qv"));
        Assert.Null(registry.Acquire("qv"));
        Assert.Equal(8, lora.Modules.Values.First().A.shape[0]); // still usable: the lease holds it
        lease.Dispose();
        Assert.Throws<ObjectDisposedException>(() => lease.Adapter);
    }

    [Fact]
    public void Over_capacity_the_least_recently_used_cpu_copy_is_dropped_and_reloaded_on_demand()
    {
        using var registry = new AdapterRegistry(config, "tiny-llama", 1, 64);
        registry.Register("qv", TestFixtures.AdapterDir("tiny-llama", "lora-qv"));
        registry.Register("all", TestFixtures.AdapterDir("tiny-llama", "lora-all"));
        Assert.False(registry.Info("qv")!.Loaded);
        Assert.True(registry.Info("all")!.Loaded);
        var misses = registry.Misses;
        using (var lease = registry.Acquire("qv"))
        {
            Assert.NotNull(lease);
        }

        Assert.Equal(misses + 1, registry.Misses);
        Assert.True(registry.Info("qv")!.Loaded);
        Assert.False(registry.Info("all")!.Loaded);
    }

    [Fact]
    public void Registering_a_taken_name_or_a_path_like_name_is_refused()
    {
        using var registry = new AdapterRegistry(config, "tiny-llama", 4, 64);
        registry.Register("qv", TestFixtures.AdapterDir("tiny-llama", "lora-qv"));
        Assert.Contains("already loaded", Assert.Throws<AdapterException>(() => registry.Register("qv", TestFixtures.AdapterDir("tiny-llama", "lora-all"))).Message);
        Assert.Throws<AdapterException>(() => registry.Register("../x", TestFixtures.AdapterDir("tiny-llama", "lora-all")));
    }

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from))
        {
            File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        }
    }
}
