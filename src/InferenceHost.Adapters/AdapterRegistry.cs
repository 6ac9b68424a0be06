using InferenceHost.Model.Checkpoints;
using InferenceHost.Adapters.Peft;
using InferenceHost.Model.Llama;

namespace InferenceHost.Adapters;

/// <summary>What the registry knows of an adapter, for listings.</summary>
public sealed record AdapterInfo(string Name, string Path, AdapterKind? Kind, int? Rank, IReadOnlyList<string> Targets, int? VirtualTokens, long? MemoryBytes, bool Loaded, string? Error,
    EvaluationCard? Evaluation = null, string? EvaluationError = null);

/// <summary>
/// The CPU side of adapter residency: which adapters exist (each subdirectory of the adapters
/// directory, plus those registered at run time), their CPU copies with an LRU capacity, and leases
/// that keep an adapter alive while requests use it — unloading never pulls one from under a request.
/// Thread-safe.
/// </summary>
public sealed class AdapterRegistry : IDisposable
{
    private readonly object gate = new();
    private readonly LlamaConfig baseConfig;
    private readonly string? baseModelName;
    private readonly int capacity;
    private readonly int maxRank;
    private readonly TorchSharp.torch.ScalarType computeDType;
    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private long clock;

    /// <param name="computeDType">The server's compute dtype: adapters whose values or deltas would overflow it are refused.</param>
    public AdapterRegistry(LlamaConfig baseConfig, string? baseModelName, int capacity, int maxRank, TorchSharp.torch.ScalarType computeDType = TorchSharp.torch.ScalarType.Float32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.baseConfig = baseConfig;
        this.baseModelName = baseModelName;
        this.capacity = capacity;
        this.maxRank = maxRank;
        this.computeDType = computeDType;
    }

    public event Action<string>? Warning;

    public long Hits { get; private set; }

    public long Misses { get; private set; }

    /// <summary>
    /// Registers every subdirectory of <paramref name="directory"/>; a broken one is listed with its error
    /// (and reported through the returned list) rather than stopping the others.
    /// </summary>
    public IReadOnlyList<AdapterException> Discover(string directory)
    {
        var errors = new List<AdapterException>();
        if (!System.IO.Directory.Exists(directory))
        {
            return errors;
        }

        foreach (var dir in System.IO.Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(dir);
            try
            {
                Register(name, dir);
            }
            catch (AdapterException e)
            {
                errors.Add(e);
                lock (gate)
                {
                    entries[name] = new Entry(name, dir) { Error = e.Message };
                }
            }
        }

        return errors;
    }

    /// <summary>Loads and validates the adapter, then makes it available under <paramref name="name"/>.</summary>
    public AdapterInfo Register(string name, string directory)
    {
        CheckName(name);
        return Register(name, PeftAdapterLoader.Load(name, directory, baseConfig, baseModelName, maxRank, computeDType));
    }

    /// <summary>
    /// Makes an adapter that is already in memory available under <paramref name="name"/> (embedders, tests);
    /// the registry owns it from now on. Once evicted it is reloaded from its directory, through the loader's checks.
    /// </summary>
    public AdapterInfo Register(string name, Adapter adapter)
    {
        CheckName(name);
        var card = EvaluationCardReader.TryRead(adapter.Directory); // a bad card is listed, never fatal
        foreach (var w in adapter.Warnings)
        {
            Warning?.Invoke(w);
        }

        lock (gate)
        {
            if (entries.TryGetValue(name, out var existing) && existing.Error is null)
            {
                adapter.Dispose();
                throw new AdapterException(name, "name", "an adapter with this name is already loaded; unload it first");
            }

            var entry = new Entry(name, adapter.Directory) { Adapter = new Shared(adapter), LastUsed = ++clock };
            entries[name] = entry;
            Fill(entry, adapter);
            (entry.Evaluation, entry.EvaluationError) = card;
            EvictOverCapacity();
            return entry.Info();
        }
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['/', '\\', '\0']) >= 0 || name.Length > 256)
        {
            throw new AdapterException(name, "name", "must be a non-empty name of at most 256 characters without path separators");
        }
    }

    /// <summary>Removes <paramref name="name"/>; requests already using it keep it until they finish.</summary>
    public bool Unregister(string name)
    {
        lock (gate)
        {
            if (!entries.Remove(name, out var entry))
            {
                return false;
            }

            entry.Adapter?.Release();
            entry.Adapter = null;
            return true;
        }
    }

    public IReadOnlyList<AdapterInfo> List()
    {
        lock (gate)
        {
            return entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal).Select(e => e.Info()).ToArray();
        }
    }

    public AdapterInfo? Info(string name)
    {
        lock (gate)
        {
            return entries.TryGetValue(name, out var e) ? e.Info() : null;
        }
    }

    /// <summary>Usable adapter names (not the broken ones).</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            lock (gate)
            {
                return entries.Values.Where(e => e.Error is null).Select(e => e.Name).Order(StringComparer.Ordinal).ToArray();
            }
        }
    }

    /// <summary>A lease on <paramref name="name"/> (loading it from disk if it was evicted), or null if unknown.</summary>
    public AdapterLease? Acquire(string name)
    {
        Entry? entry;
        lock (gate)
        {
            if (!entries.TryGetValue(name, out entry) || entry.Error is not null)
            {
                return null;
            }

            entry.LastUsed = ++clock;
            if (entry.Adapter is { } cached)
            {
                Hits++;
                cached.AddRef();
                return new AdapterLease(cached);
            }

            Misses++;
        }

        // Cold load outside the lock: disk I/O must not block other lookups. A file that went bad since is
        // recorded on the entry (listings show it) and refused to this request.
        Adapter loaded;
        try
        {
            loaded = PeftAdapterLoader.Load(name, entry.Directory, baseConfig, baseModelName, maxRank, computeDType);
        }
        catch (AdapterException e)
        {
            lock (gate)
            {
                entry.Error = e.Message;
            }

            throw;
        }

        lock (gate)
        {
            if (!entries.TryGetValue(name, out var current) || current != entry)
            {
                loaded.Dispose(); // unloaded meanwhile
                return null;
            }

            if (entry.Adapter is null)
            {
                entry.Adapter = new Shared(loaded);
            }
            else
            {
                loaded.Dispose(); // another caller loaded it first
            }

            entry.Adapter.AddRef();
            var lease = new AdapterLease(entry.Adapter);
            EvictOverCapacity();
            return lease;
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var e in entries.Values)
            {
                e.Adapter?.Release();
                e.Adapter = null;
            }

            entries.Clear();
        }
    }

    private static void Fill(Entry entry, Adapter adapter)
    {
        entry.Kind = adapter.Kind;
        entry.Memory = adapter.MemoryBytes;
        if (adapter is LoraAdapter lora)
        {
            entry.Rank = lora.MaxRank;
            entry.Targets = lora.TargetKinds.Select(LinearSite.ShortName).ToArray();
        }
        else if (adapter is SoftPromptAdapter soft)
        {
            entry.VirtualTokens = soft.VirtualTokens;
        }
    }

    private void EvictOverCapacity()
    {
        var resident = entries.Values.Where(e => e.Adapter is not null).OrderBy(e => e.LastUsed).ToList();
        for (var i = 0; i < resident.Count - capacity; i++)
        {
            resident[i].Adapter!.Release(); // leased copies live on until their leases end
            resident[i].Adapter = null;
        }
    }

    private sealed class Entry(string name, string directory)
    {
        public string Name { get; } = name;

        public string Directory { get; } = directory;

        public Shared? Adapter { get; set; }

        public long LastUsed { get; set; }

        public string? Error { get; set; }

        public AdapterKind? Kind { get; set; }

        public int? Rank { get; set; }

        public IReadOnlyList<string> Targets { get; set; } = [];

        public int? VirtualTokens { get; set; }

        public long? Memory { get; set; }

        public EvaluationCard? Evaluation { get; set; }

        public string? EvaluationError { get; set; }

        public AdapterInfo Info() => new(Name, Directory, Kind, Rank, Targets, VirtualTokens, Memory, Adapter is not null, Error, Evaluation, EvaluationError);
    }

    /// <summary>A reference-counted CPU copy: the registry holds one reference while it caches it.</summary>
    internal sealed class Shared(Adapter adapter)
    {
        private int refs = 1;

        public Adapter Adapter { get; } = adapter;

        public void AddRef() => Interlocked.Increment(ref refs);

        public void Release()
        {
            if (Interlocked.Decrement(ref refs) == 0)
            {
                Adapter.Dispose();
            }
        }
    }
}

/// <summary>Keeps one adapter's CPU copy alive while a request uses it.</summary>
public sealed class AdapterLease : IDisposable
{
    private AdapterRegistry.Shared? shared;

    internal AdapterLease(AdapterRegistry.Shared shared) => this.shared = shared;

    public Adapter Adapter => shared?.Adapter ?? throw new ObjectDisposedException(nameof(AdapterLease));

    public void Dispose() => Interlocked.Exchange(ref shared, null)?.Release();
}
