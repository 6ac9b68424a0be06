using System.Diagnostics;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Llama;
using InferenceHost.Model.Quantization;
using InferenceHost.Model.Tokenization;
using static TorchSharp.torch;

namespace InferenceHost.Model;

/// <summary>How to load a checkpoint: compute dtype, device, and the longest sequence to plan for.</summary>
public sealed record ModelLoadOptions
{
    public ScalarType DType { get; init; } = ScalarType.Float32;

    public Device Device { get; init; } = CPU;

    /// <summary>Longest sequence (prompt + output + soft-prompt tokens); default the config's max positions.</summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>Storage of the linear modules' weights (<c>Model:Quantization</c>): quantized at load from the checkpoint's dtype.</summary>
    public WeightQuantization Quantization { get; init; } = WeightQuantization.None;

    /// <summary>Decode-shaped CPU products through the C# kernels (false = libtorch for every product).</summary>
    public bool DecodeKernels { get; init; } = true;

    /// <summary>With the kernels, a layer's q/k/v and gate/up products in one hand-off each (false = one per module).</summary>
    public bool FuseProjections { get; init; } = true;

    /// <summary>With the kernels, the decode step's norms, residual adds and rotations as one pass each (<see cref="LinearOptions.RowKernels"/>).</summary>
    public bool RowKernels { get; init; } = true;
}

/// <summary>A loaded base model: config, frozen weights and tokenizer. Owns the weights.</summary>
public sealed class LoadedModel : IDisposable
{
    internal LoadedModel(string directory, LlamaConfig config, LlamaForCausalLM model, ITextTokenizer tokenizer, TimeSpan loadTime,
        IEnumerable<int> generationEosIds)
    {
        Directory = directory;
        Config = config;
        Model = model;
        Tokenizer = tokenizer;
        LoadTime = loadTime;
        EosIds = config.EosTokenIds.Concat(generationEosIds).Concat(tokenizer.EosId is { } e ? [e] : []).ToHashSet();
    }

    /// <summary>Ids that end generation: config.json's and generation_config.json's eos_token_id(s) and the tokenizer's EOS.</summary>
    public IReadOnlySet<int> EosIds { get; }

    public string Directory { get; }

    /// <summary>The checkpoint directory's name, the default model name the API reports.</summary>
    public string Name => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(Directory)));

    public LlamaConfig Config { get; }

    public LlamaForCausalLM Model { get; }

    public ITextTokenizer Tokenizer { get; }

    public TimeSpan LoadTime { get; }

    public void Dispose() => Model.Dispose();
}

/// <summary>Loads a Hugging Face Llama-family directory (config.json, safetensors, tokenizer).</summary>
public static class ModelLoader
{
    // Keys some exporters leave in checkpoints that carry nothing we need.
    private const string RotaryBufferSuffix = ".rotary_emb.inv_freq";

    public static LoadedModel Load(string directory, ModelLoadOptions? options = null)
    {
        options ??= new ModelLoadOptions();
        var clock = Stopwatch.StartNew();
        if (!System.IO.Directory.Exists(directory))
        {
            throw new CheckpointException(directory, "model directory does not exist");
        }

        var config = LlamaConfig.Load(Path.Combine(directory, "config.json"));
        var tokenizer = TokenizerLoader.Load(directory);
        TokenizerLoader.CheckAgainstEmbedding(tokenizer, config.VocabSize, directory);
        var generationEos = GenerationConfig.EosTokenIds(directory);

        var maxPositions = options.MaxSequenceLength ?? config.MaxPositionEmbeddings;
        var model = new LlamaForCausalLM(config, options.DType, options.Device, maxPositions,
            new LinearOptions { Quantization = options.Quantization, DecodeKernels = options.DecodeKernels, FuseProjections = options.FuseProjections, RowKernels = options.RowKernels });
        try
        {
            LoadWeights(model, directory);
        }
        catch
        {
            model.Dispose();
            throw;
        }

        return new LoadedModel(directory, config, model, tokenizer, clock.Elapsed, generationEos);
    }

    private static void LoadWeights(LlamaForCausalLM model, string directory)
    {
        using var reader = CheckpointReader.Open(directory);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var quantized = model.Linears.Where(l => l.IsQuantized).ToDictionary(l => $"{l.Site.ModulePath}.weight");
        var optional = reader.Names.Where(n => n.EndsWith(RotaryBufferSuffix, StringComparison.Ordinal)).ToList();
        if (model.Config.TieWordEmbeddings && reader.Names.Contains("lm_head.weight"))
        {
            optional.Add("lm_head.weight"); // some exporters write the tied head out as well; it is ignored
        }

        reader.CheckNames(parameters.Keys.ToArray(), optional);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in parameters)
        {
            var info = reader.Info(name);
            var linear = quantized.GetValueOrDefault(name);
            var expected = linear is null ? parameter.shape : [linear.OutFeatures, linear.InFeatures];
            if (!info.Shape.SequenceEqual(expected))
            {
                throw new CheckpointException(reader.FileOf(name),
                    $"tensor '{name}' has shape [{string.Join(", ", info.Shape)}] but config.json implies [{string.Join(", ", expected)}]");
            }

            if (linear is not null)
            {
                // Quantized from float32 (whatever the file's dtype), one matrix at a time.
                using var full = reader.Load(name, ScalarType.Float32, CPU);
                linear.LoadWeight(full);
                continue;
            }

            using var loaded = reader.Load(name, parameter.dtype, parameter.device);
            parameter.copy_(loaded);
        }
    }
}
