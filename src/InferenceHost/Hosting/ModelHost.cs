using InferenceHost.Adapters;
using InferenceHost.Engine;
using InferenceHost.Model;
using InferenceHost.Model.Quantization;
using Microsoft.Extensions.Options;

namespace InferenceHost.Hosting;

/// <summary>
/// Owns the served model, adapter registry and engine. Loading runs in the background at start-up so
/// liveness answers at once; readiness (and every generation route) waits for <see cref="IsReady"/>.
/// </summary>
public sealed class ModelHost(
    IOptions<ModelOptions> modelOptions,
    IOptions<AdaptersOptions> adapterOptions,
    IOptions<LoraOptions> loraOptions,
    IOptions<EngineHostOptions> engineOptions,
    IOptions<ChatOptions> chatOptions,
    ILogger<ModelHost> logger) : BackgroundService
{
    private volatile Served? served;

    public bool IsReady => served is not null;

    public string? LoadError { get; private set; }

    /// <summary>The loaded state; only valid when <see cref="IsReady"/>.</summary>
    public Served Current => served ?? throw new InvalidOperationException("the model is not loaded yet");

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() =>
    {
        try
        {
            served = Load();
        }
        catch (Exception e)
        {
            LoadError = e.Message;
            logger.LogCritical(e, "Loading the model failed: {Message}", e.Message);
        }
    }, stoppingToken);

    public override void Dispose()
    {
        if (served is { } s)
        {
            s.Engine.Dispose();
            s.Registry.Dispose();
            s.Model.Dispose();
        }

        base.Dispose();
    }

    private Served Load()
    {
        var mo = modelOptions.Value;
        var path = mo.Path;
        if (string.IsNullOrEmpty(path))
        {
            path = DefaultModel.Locate();
            logger.LogInformation("Model:Path is empty: serving the built-in default model from {Dir} (a small Llama trained on DialogSum dialogues; see its README)", path);
        }

        HostParsing.TryDType(mo.DType, out var dtype);
        var device = TorchSharp.torch.device(mo.Device);
        var quantization = WeightQuantizationNames.Parse(mo.Quantization, "Model:Quantization");
        var model = ModelLoader.Load(path, new ModelLoadOptions { DType = dtype, Device = device, Quantization = quantization, DecodeKernels = mo.DecodeKernels, FuseProjections = mo.FuseProjections });
        var chat = CreateChatPrompter(path, model);
        var name = string.IsNullOrWhiteSpace(mo.Name) ? model.Name : mo.Name;
        logger.LogInformation("Loaded model {Name} from {Path} ({DType}, {Device}, quantization {Quantization}) in {Ms} ms; weights resident: {WeightMiB:F0} MiB",
            name, path, mo.DType, mo.Device, quantization.Name(), model.LoadTime.TotalMilliseconds, model.Model.WeightBytes / 1048576.0);

        var lo = loraOptions.Value;
        var eo = engineOptions.Value;
        HostParsing.TryLoraMode(lo.Mode, out var mode);
        var registry = new AdapterRegistry(model.Config, name, capacity: lo.MaxCpuAdapters, maxRank: lo.MaxRank, computeDType: model.Model.DType);
        registry.Warning += w => logger.LogWarning("Adapter: {Warning}", w);
        var adapterDir = adapterOptions.Value.Directory;
        foreach (var error in registry.Discover(adapterDir))
        {
            logger.LogError("Adapter {Adapter} in {Dir} is broken and will not be served: {Message}", error.Adapter, adapterDir, error.Message);
        }

        logger.LogInformation("Adapters from {Dir}: {Names}", Path.GetFullPath(adapterDir), string.Join(", ", registry.Names));
        var engine = new InferenceEngine(model, new EngineOptions
        {
            MaxBatchSize = eo.MaxBatchSize,
            MaxSequenceLength = eo.MaxSequenceLength,
            MaxQueuedRequests = eo.MaxQueuedRequests,
            MaxPrefillTokensPerStep = eo.MaxPrefillTokensPerStep,
            Mode = mode,
            MaxLoraSlots = lo.MaxSlots,
            MaxLoraRank = lo.MaxRank,
            LoraTargets = lo.TargetModules.Count == 0
                ? InferenceHost.Model.Llama.LinearSite.AllKinds
                : lo.TargetModules.Select(t => InferenceHost.Model.Llama.LinearSite.ParseShortName(t)!.Value).ToArray(),
            MergedTurn = TimeSpan.FromMilliseconds(lo.MergedTurnMs),
            Auto = new AutoModePolicy
            {
                Window = lo.Auto.Window,
                MinSamples = lo.Auto.MinSamples,
                EnterMergedShare = lo.Auto.EnterMergedShare,
                ExitMergedShare = lo.Auto.ExitMergedShare,
                MinDwell = TimeSpan.FromSeconds(lo.Auto.MinDwellSeconds),
            },
        }, registry);
        logger.LogInformation("KV cache: {Rows} rows x {Length} positions = {MiB:F0} MiB; LoRA slots: {Slots} x rank {Rank} = {SlotMiB:F0} MiB (set Engine:MaxBatchSize / Engine:MaxSequenceLength / Lora:MaxSlots to size them)",
            eo.MaxBatchSize, engine.MaxSequenceLength, engine.KvCacheBytes / 1048576.0, lo.MaxSlots, lo.MaxRank, engine.SlotMemory.Total / 1048576.0);
        engine.ModeSwitched += s => logger.LogInformation("LoRA mode {From} -> {To} in {Ms:F1} ms: {Reason}", s.From, s.To, s.Duration.TotalMilliseconds, s.Reason);
        return new Served(model, name, Path.GetFullPath(path), registry, engine, chat);
    }

    private ChatPrompter CreateChatPrompter(string path, LoadedModel model)
    {
        try
        {
            var choice = ChatTemplateSetting.Resolve(chatOptions.Value.ChatTemplate, path);
            if (choice.Warning is { } warning)
            {
                logger.LogWarning("ChatTemplate: {Warning}", warning);
            }

            var chat = new ChatPrompter(choice, path, model.Tokenizer);
            logger.LogInformation("Chat template: {Origin}", chat.Origin);
            return chat;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}

/// <summary>What is being served once loading is done.</summary>
public sealed record Served(LoadedModel Model, string Name, string Path, AdapterRegistry Registry, InferenceEngine Engine, ChatPrompter Chat);
