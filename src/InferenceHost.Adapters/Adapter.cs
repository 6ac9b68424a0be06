using InferenceHost.Model.Llama;
using static TorchSharp.torch;

namespace InferenceHost.Adapters;

public enum AdapterKind
{
    Lora,
    SoftPrompt,
}

/// <summary>A loaded adapter's CPU copy (the registry's unit). Owns its tensors.</summary>
public abstract class Adapter : IDisposable
{
    protected Adapter(string name, string directory, IReadOnlyList<string> warnings)
    {
        Name = name;
        Directory = directory;
        Warnings = warnings;
    }

    public string Name { get; }

    public string Directory { get; }

    public abstract AdapterKind Kind { get; }

    /// <summary>Bytes of tensor data held on the CPU.</summary>
    public abstract long MemoryBytes { get; }

    /// <summary>Things worth telling the operator that did not stop the load (e.g. a different base model name).</summary>
    public IReadOnlyList<string> Warnings { get; }

    public abstract void Dispose();
}

/// <summary>One LoRA a request uses, with its weight (LoRAs in one request are summed with these weights).</summary>
public readonly record struct LoraUse(LoraAdapter Adapter, double Weight);

/// <summary>LoRA matrices for one linear module: delta = Scale · B·A.</summary>
public sealed record LoraModule(Tensor A, Tensor B, int Rank, double Scale); // A [r, in], B [out, r]

public sealed class LoraAdapter : Adapter
{
    public LoraAdapter(string name, string directory, IReadOnlyDictionary<LinearSite, LoraModule> modules, IReadOnlyList<string> warnings)
        : base(name, directory, warnings) => Modules = modules;

    public override AdapterKind Kind => AdapterKind.Lora;

    public IReadOnlyDictionary<LinearSite, LoraModule> Modules { get; }

    public int MaxRank => Modules.Values.Max(m => m.Rank);

    /// <summary>The module kinds it touches (q_proj, v_proj, ...), in model order.</summary>
    public IReadOnlyList<LinearKind> TargetKinds => Modules.Keys.Select(k => k.Kind).Distinct().Order().ToArray();

    public override long MemoryBytes => Modules.Values.Sum(m => (m.A.NumberOfElements * m.A.ElementSize) + (m.B.NumberOfElements * m.B.ElementSize));

    public override void Dispose()
    {
        foreach (var m in Modules.Values)
        {
            m.A.Dispose();
            m.B.Dispose();
        }
    }
}

/// <summary>Prompt-tuning vectors, prepended to the input embeddings (positions 0..n-1).</summary>
public sealed class SoftPromptAdapter : Adapter
{
    public SoftPromptAdapter(string name, string directory, Tensor embeddings, IReadOnlyList<string> warnings)
        : base(name, directory, warnings) => Embeddings = embeddings;

    public override AdapterKind Kind => AdapterKind.SoftPrompt;

    /// <summary>[n, hidden], float32.</summary>
    public Tensor Embeddings { get; }

    public int VirtualTokens => (int)Embeddings.shape[0];

    public override long MemoryBytes => Embeddings.NumberOfElements * Embeddings.ElementSize;

    public override void Dispose() => Embeddings.Dispose();
}
