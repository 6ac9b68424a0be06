using InferenceHost.Adapters;
using InferenceHost.Adapters.Peft;
using InferenceHost.CommandLine;
using InferenceHost.Model.Llama;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InferenceHost.Trainer.Training;

/// <summary>
/// Trainable LoRA matrices plugged into the model's <see cref="ILinearDelta"/> hook: y + scale · (dropout(x)·Aᵀ)·Bᵀ,
/// the server's math (<see cref="LoraMath"/>, scale from <see cref="PeftNames.Scale"/>) on parameters that need gradients. A [r, in] starts as PEFT's kaiming-uniform
/// (bound 1/√in), B [out, r] at zero, so training starts from the base model exactly.
/// </summary>
public sealed class TrainableLora : ILinearDelta, IDisposable
{
    private readonly Dictionary<LinearSite, (Parameter A, Parameter B)> modules = [];

    public TrainableLora(LlamaForCausalLM model, LoraSettings settings, int seed)
    {
        Settings = settings;
        Scale = PeftNames.Scale(settings.Alpha, settings.Rank, settings.UseRsLora);
        using var generator = new torch.Generator((ulong)seed);
        foreach (var linear in model.Linears)
        {
            if (!settings.Targets.Contains(linear.Site.Kind) || (settings.Layers is { } layers && !layers.Contains(linear.Site.Layer)))
            {
                continue;
            }

            var (outF, inF) = (linear.OutFeatures, linear.InFeatures); // a quantized base has no dense weight to read
            var bound = 1.0 / Math.Sqrt(inF);
            var a = (rand([settings.Rank, inF], ScalarType.Float32, generator: generator) * (2 * bound) - bound).to(model.DType); // [r, in]
            var b = zeros([outF, settings.Rank], model.DType); // [out, r]
            modules[linear.Site] = (new Parameter(a, requires_grad: true), new Parameter(b, requires_grad: true));
        }

        if (modules.Count == 0)
        {
            throw new CliException("the LoRA targets select no module of this model");
        }
    }

    public LoraSettings Settings { get; }

    public double Scale { get; }

    /// <summary>Dropout on the LoRA input is applied only while training.</summary>
    public bool Training { get; set; } = true;

    public IReadOnlyDictionary<LinearSite, (Parameter A, Parameter B)> Modules => modules;

    public IEnumerable<Parameter> Parameters => modules.OrderBy(m => m.Key.Layer).ThenBy(m => m.Key.Kind).SelectMany(m => new[] { m.Value.A, m.Value.B });

    public Tensor Apply(LinearSite site, Tensor x, Tensor y)
    {
        if (!modules.TryGetValue(site, out var m))
        {
            return y;
        }

        var input = Training && Settings.Dropout > 0 ? nn.functional.dropout(x, Settings.Dropout, training: true) : x;
        return y + LoraMath.Product(input, m.A, m.B.t()) * Scale; // [B, T, out]
    }

    /// <summary>The matrices by site, A [r, in] and B [out, r], as the PEFT writer takes them.</summary>
    public IReadOnlyDictionary<LinearSite, (Tensor A, Tensor B)> Matrices() => modules.ToDictionary(m => m.Key, m => ((Tensor)m.Value.A, (Tensor)m.Value.B));

    public void Dispose()
    {
        foreach (var (a, b) in modules.Values)
        {
            a.Dispose();
            b.Dispose();
        }
    }
}

/// <summary>LoRA hyper-parameters (PEFT's LoraConfig fields).</summary>
public sealed record LoraSettings
{
    public int Rank { get; init; } = 8;

    public double Alpha { get; init; } = 16;

    public double Dropout { get; init; }

    public IReadOnlyList<LinearKind> Targets { get; init; } = [LinearKind.QProj, LinearKind.VProj];

    public bool UseRsLora { get; init; }

    /// <summary>PEFT's layers_to_transform; null = every layer.</summary>
    public IReadOnlyList<int>? Layers { get; init; }
}

/// <summary>How a soft prompt starts (PEFT's prompt_tuning_init).</summary>
public enum PromptInit
{
    /// <summary>Gaussian noise with the embedding table's standard deviation (so the vectors start at the scale of real token embeddings).</summary>
    Random,

    /// <summary>The embeddings of a text's tokens, repeated to fill the virtual tokens (PEFT's TEXT).</summary>
    Text,

    /// <summary>Embeddings of tokens sampled from the vocabulary (Lester et al.'s sampled-vocab init).</summary>
    SampledVocab,
}

/// <summary>A trainable soft prompt [n, hidden], prepended to the input embeddings.</summary>
public sealed class TrainableSoftPrompt : IDisposable
{
    public TrainableSoftPrompt(LlamaForCausalLM model, int virtualTokens, PromptInit init, string? initText,
        Model.Tokenization.ITextTokenizer tokenizer, int seed)
    {
        Init = init;
        InitText = initText;
        using var generator = new torch.Generator((ulong)seed);
        using var noGrad = no_grad();
        var table = model.Model.EmbedTokens.Weight; // [V, hidden]
        Tensor values;
        switch (init)
        {
            case PromptInit.Text:
                var ids = tokenizer.Encode(initText ?? throw new CliException("--prompt-init text needs --prompt-init-text"), addSpecialTokens: false);
                if (ids.Count == 0)
                {
                    throw new CliException("--prompt-init-text encodes to no tokens");
                }

                var picked = Enumerable.Range(0, virtualTokens).Select(i => (long)ids[i % ids.Count]).ToArray();
                values = table.index_select(0, tensor(picked)).clone(); // [n, hidden]
                break;
            case PromptInit.SampledVocab:
                var limit = Math.Min(tokenizer.VocabSize, 5000); // common tokens: low ids in BPE/SentencePiece
                var sampled = randint(limit, [virtualTokens], generator: generator);
                values = table.index_select(0, sampled).clone(); // [n, hidden]
                break;
            default:
                var std = table.to_type(ScalarType.Float32).std().item<float>();
                values = (randn([virtualTokens, table.shape[1]], ScalarType.Float32, generator: generator) * std).to(table.dtype); // [n, hidden]
                break;
        }

        Embeddings = new Parameter(values.detach(), requires_grad: true);
    }

    public PromptInit Init { get; }

    public string? InitText { get; }

    public Parameter Embeddings { get; }

    public int VirtualTokens => (int)Embeddings.shape[0];

    public void Dispose() => Embeddings.Dispose();
}
