using InferenceHost.LoadTests.Cli;

namespace InferenceHost.LoadTests.Traffic;

/// <summary>One named adapter in the <c>"adapters"</c> extension field; Weight null means "no weight given".</summary>
public sealed record AdapterRef(string Name, double? Weight = null);

/// <summary>One request to send: model name, optional adapter combination, prompt and output length.</summary>
public sealed record RequestSpec(int Index, string Model, IReadOnlyList<AdapterRef>? Adapters, string Prompt, int MaxTokens)
{
    /// <summary>The label used in per-adapter breakdowns: the adapters' names, or the model name.</summary>
    public string Label => Adapters is { Count: > 0 } a ? string.Join("+", a.Select(x => x.Name)) : Model;
}

/// <summary>
/// The seeded, deterministic sequence of requests for a run. Each aspect (adapter, soft prompt, prompt text,
/// output length) draws from its own Random so changing one option does not reshuffle the others.
/// </summary>
public sealed class RequestGenerator
{
    private readonly RunOptions _o;
    private readonly AdapterPicker _lora;
    private readonly AdapterPicker _soft;
    private readonly PromptFactory _prompts;
    private readonly Random _lengths;
    private readonly object _gate = new();
    private int _index;

    public RequestGenerator(RunOptions options)
    {
        _o = options;
        _lora = new AdapterPicker(options.LoraNames, options.Popularity, options.ZipfExponent, options.BaseFraction,
            new Random(options.Seed));
        // The soft prompt of a LoRA+soft request never goes to the base model on its own: the base draw is the LoRA's.
        double softBase = options.AdapterKind == AdapterKind.Soft ? options.BaseFraction : 0;
        _soft = new AdapterPicker(options.SoftPromptNames, options.Popularity, options.ZipfExponent, softBase,
            new Random(options.Seed + 1));
        _prompts = new PromptFactory(options, new Random(options.Seed + 2));
        _lengths = new Random(options.Seed + 3);
    }

    public RequestSpec Next()
    {
        lock (_gate)
        {
            int maxTokens = _lengths.Next(_o.OutputLen.Min, _o.OutputLen.Max + 1);
            string prompt = _prompts.Next();
            (string model, IReadOnlyList<AdapterRef>? adapters) = _o.AdapterKind switch
            {
                AdapterKind.Lora => (_lora.Next() ?? _o.BaseModel, null),
                AdapterKind.Soft => Soft(_soft.Next()),
                _ => LoraSoft(_lora.Next(), _soft.Next()),
            };
            return new RequestSpec(_index++, model, adapters, prompt, maxTokens);
        }
    }

    private (string, IReadOnlyList<AdapterRef>?) Soft(string? soft)
        => soft is null ? (_o.BaseModel, null) : (_o.BaseModel, [new AdapterRef(soft)]);

    private (string, IReadOnlyList<AdapterRef>?) LoraSoft(string? lora, string? soft)
        => lora is null ? (_o.BaseModel, null)
            : (_o.BaseModel, [new AdapterRef(lora, 1.0), new AdapterRef(soft ?? _o.SoftPromptNames[0])]);
}
