using System.Text.Json.Nodes;

namespace InferenceHost.Fuzz.Adapters;

/// <summary>What a load of the kind must answer: refused with a 4xx, accepted (controls), or anything but a 5xx.</summary>
public enum Expect { Refuse, Accept, NoServerError }

/// <summary>
/// One broken adapter: <see cref="Build"/> writes it into its directory under the scratch root and returns the
/// path the admin route is given; <see cref="During"/>, when set, runs while the server loads it.
/// </summary>
public sealed record BrokenKind(string Name, string Group, string What, Expect Expect, Func<AdapterWorkspace, string> Build)
{
    public Func<AdapterWorkspace, CancellationToken, Task>? During { get; init; }

    /// <summary>Valid config, these weights.</summary>
    public static Func<AdapterWorkspace, string> WithWeights(Func<AdapterWorkspace, byte[]> weights) => w =>
    {
        w.Config(w.Source.Config);
        return w.Weights(weights(w));
    };

    /// <summary>Valid config, the valid tensors with the first lora_A changed.</summary>
    public static Func<AdapterWorkspace, string> WithA(Func<TensorEntry, TensorEntry> edit) => WithWeights(w =>
    {
        var t = w.Source.Tensors;
        var i = t.FindIndex(x => x.Name.Contains(".lora_A.", StringComparison.Ordinal));
        t[i] = edit(t[i]);
        return SafetensorsBytes.Write(t);
    });

    /// <summary>Valid config, the valid tensors with the header edited.</summary>
    public static Func<AdapterWorkspace, string> WithHeader(Action<JsonObject> edit) => WithWeights(w => SafetensorsBytes.Write(w.Source.Tensors, edit));

    /// <summary>This config (edited from the valid one), valid weights.</summary>
    public static Func<AdapterWorkspace, string> WithConfig(Action<JsonObject> edit) => w =>
    {
        var config = w.Source.Config;
        edit(config);
        w.Config(config);
        return w.Weights(w.Source.Tensors);
    };

    /// <summary>This config text, valid weights.</summary>
    public static Func<AdapterWorkspace, string> WithConfigText(Func<JsonObject, string> text) => w =>
    {
        w.Config(text(w.Source.Config));
        return w.Weights(w.Source.Tensors);
    };

    /// <summary>The first lora_A tensor's key in a header.</summary>
    public static string AKey(JsonObject header) => header.First(kv => kv.Key.Contains(".lora_A.", StringComparison.Ordinal)).Key;

    public static long Numel(TensorEntry t) => t.Shape.Aggregate(1L, (a, b) => a * b);
}
