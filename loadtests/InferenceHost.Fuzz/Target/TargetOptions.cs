namespace InferenceHost.Fuzz.Target;

/// <summary>Which server to attack: one the fuzzer starts (the built host DLL over a model directory) or a running one at <see cref="Url"/>.</summary>
public sealed record TargetOptions
{
    /// <summary>A running server on loopback; null = start one.</summary>
    public Uri? Url { get; init; }

    /// <summary>With <see cref="Url"/>: the admin key it was started with (also sent on generation routes).</summary>
    public string? AdminKey { get; init; }

    /// <summary>With <see cref="Url"/>: a directory inside its <c>Adapters:AllowedRoots</c> the fuzzer may write into.</summary>
    public string? AdapterRoot { get; init; }

    /// <summary>With <see cref="Url"/>: its process id, for the memory and liveness checks.</summary>
    public int? Pid { get; init; }

    public string? HostDll { get; init; }

    public string ModelDir { get; init; } = "../shared/fixtures/tiny-llama";

    public string LoraMode { get; init; } = "unmerged";

    public double ReadyTimeoutSeconds { get; init; } = 120;

    /// <summary>More server settings (<c>--Key:Sub=value</c>), after the fuzzer's own.</summary>
    public IReadOnlyList<string> ServerArgs { get; init; } = [];

    /// <summary>The host DLL given, else the Release build, else the Debug build (from the working directory up).</summary>
    public string ResolveHostDll()
    {
        if (HostDll is not null)
        {
            return File.Exists(HostDll) ? Path.GetFullPath(HostDll) : throw new FileNotFoundException($"--host-dll {HostDll} does not exist");
        }

        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var config in new[] { "Release", "Debug" })
            {
                var candidate = Path.Combine(dir.FullName, "src", "InferenceHost", "bin", config, "net10.0", "InferenceHost.dll");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new FileNotFoundException("no built server found: run 'dotnet build -c Release src/InferenceHost' or give --host-dll");
    }
}
