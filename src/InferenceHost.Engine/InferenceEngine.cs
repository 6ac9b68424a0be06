using System.Diagnostics;
using System.Threading.Channels;
using InferenceHost.Adapters;
using InferenceHost.Adapters.Slots;
using InferenceHost.Engine.Generation;
using InferenceHost.Model;
using InferenceHost.Model.Llama;

namespace InferenceHost.Engine;

/// <summary>
/// The serving engine: a queue of requests, continuous batching over a fixed set of KV-cache rows
/// (requests join and leave at step boundaries), chunked prefill, and LoRA application in the
/// configured mode. One background thread owns the model, cache, slots and merger; callers only
/// submit and read their request's channel.
/// </summary>
public sealed partial class InferenceEngine : IDisposable
{
    private readonly LoadedModel model;
    private readonly EngineOptions options;
    private readonly KvCache cache;
    private readonly BatchStepper stepper;
    private readonly SlotTable slots;
    private readonly LoraSlotBuffers buffers;
    private readonly WeightMerger merger;
    private readonly Channel<Job> incoming = Channel.CreateUnbounded<Job>();
    private readonly List<Job> waiting = [];
    private readonly List<Job> running = [];
    private readonly Stack<int> freeRows;
    private readonly Thread loop;
    private readonly CancellationTokenSource stopping = new();
    private readonly ModeController modes;
    private int queued;
    private long nextId;

    public InferenceEngine(LoadedModel model, EngineOptions options, AdapterRegistry registry)
    {
        this.model = model;
        this.options = options;
        Registry = registry;
        MaxSequenceLength = options.MaxSequenceLength > 0 ? (int)Math.Min(options.MaxSequenceLength, model.Model.MaxPositions) : (int)model.Model.MaxPositions;
        cache = new KvCache(model.Config, options.MaxBatchSize, MaxSequenceLength, model.Model.DType, model.Model.Device);
        stepper = new BatchStepper(model.Model, cache);
        slots = new SlotTable(options.MaxLoraSlots);
        buffers = new LoraSlotBuffers(model.Model, options.MaxLoraSlots, options.MaxLoraRank, options.LoraTargets.ToHashSet());
        merger = new WeightMerger(model.Model);
        freeRows = new Stack<int>(Enumerable.Range(0, options.MaxBatchSize).Reverse());
        modes = new ModeController(options, Stats);
        loop = new Thread(Loop) { IsBackground = true, Name = "inference-engine" };
        loop.Start();
    }

    public AdapterRegistry Registry { get; }

    public EngineStats Stats { get; } = new();

    public LoadedModel Model => model;

    public int MaxSequenceLength { get; }

    public IReadOnlyList<ModeSwitch> ModeHistory => modes.History;

    /// <summary>The configured mode (the effective one is <see cref="EngineStats.Mode"/>).</summary>
    public LoraMode ConfiguredMode => options.Mode;

    public AutoModePolicy AutoPolicy => options.Auto;

    /// <summary>Raised on the engine thread after every change of the effective LoRA mode.</summary>
    public event Action<ModeSwitch>? ModeSwitched
    {
        add => modes.Switched += value;
        remove => modes.Switched -= value;
    }

    /// <summary>Device bytes of the LoRA slot buffers, and per slot (one resident adapter).</summary>
    public (long Total, long PerSlot) SlotMemory => (buffers.Bytes, buffers.BytesPerSlot);

    public IReadOnlyList<SlotState> SlotSnapshot() => slots.Snapshot();

    /// <summary>Bytes the preallocated KV cache holds (rows × max sequence length × layers × 2).</summary>
    public long KvCacheBytes => cache.Bytes;

    /// <summary>
    /// Queues a request. Throws <see cref="ArgumentException"/> for a bad request (naming the field),
    /// <see cref="UnknownAdapterException"/>, or <see cref="QueueFullException"/>.
    /// </summary>
    public GenerationHandle Submit(GenerationRequest request)
    {
        request.Sampling.Validate();
        if (request.PromptIds.Count == 0)
        {
            throw new ArgumentException("the prompt has no tokens", "prompt");
        }

        var leases = new List<AdapterLease>();
        try
        {
            var job = Resolve(request, leases);
            var needed = job.Seq.MaxLength;
            if (needed > MaxSequenceLength)
            {
                throw new ArgumentException(
                    $"prompt ({request.PromptIds.Count} tokens{(job.Seq.PrefixLength > 0 ? $" + {job.Seq.PrefixLength} soft-prompt tokens" : "")}) plus max_tokens ({request.Sampling.MaxTokens}) is {needed}, more than the context length {MaxSequenceLength}",
                    "max_tokens");
            }

            if (Interlocked.Increment(ref queued) > options.MaxQueuedRequests)
            {
                Interlocked.Decrement(ref queued);
                throw new QueueFullException(options.MaxQueuedRequests);
            }

            modes.Observe(job.LoraKey);
            incoming.Writer.TryWrite(job);
            return new GenerationHandle(job.Out.Reader, job.Done.Task);
        }
        catch
        {
            leases.ForEach(l => l.Dispose());
            throw;
        }
    }

    /// <summary>Evicts <paramref name="name"/> from the device slots (now, or when its last user finishes).</summary>
    public void UnloadFromSlots(string name) => Post(() => slots.Unload(name));

    public void Dispose()
    {
        stopping.Cancel();
        incoming.Writer.TryComplete();
        loop.Join();
        Drain(); // requests submitted while stopping are cancelled too, never left hanging
        foreach (var job in waiting.Concat(running).ToArray())
        {
            Finish(job, FinishReason.Cancelled);
        }

        merger.Restore();
        merger.Dispose();
        buffers.Dispose();
        cache.Dispose();
    }

    private Job Resolve(GenerationRequest request, List<AdapterLease> leases)
    {
        var loras = new List<(LoraAdapter, double)>();
        SoftPromptAdapter? soft = null;
        foreach (var a in request.Adapters)
        {
            if (!double.IsFinite(a.Weight))
            {
                throw new ArgumentException($"adapter '{a.Name}': weight must be a finite number", "adapters");
            }

            var lease = Registry.Acquire(a.Name) ?? throw new UnknownAdapterException(a.Name, Registry.Names);
            leases.Add(lease);
            switch (lease.Adapter)
            {
                case LoraAdapter lora:
                    loras.Add((lora, a.Weight));
                    break;
                case SoftPromptAdapter sp when soft is null:
                    soft = sp;
                    break;
                default:
                    throw new ArgumentException("a request may use at most one soft prompt", "adapters");
            }
        }

        var id = Interlocked.Increment(ref nextId);
        var seq = new Sequence(id, request.PromptIds, request.Sampling, model.Tokenizer, model.EosIds) { Prefix = soft?.Embeddings };
        var key = string.Join("+", loras.OrderBy(l => l.Item1.Name, StringComparer.Ordinal).Select(l => $"{l.Item1.Name}*{l.Item2:R}"));
        return new Job(request, seq, leases, loras, key);
    }

    private void Post(Action action) => incoming.Writer.TryWrite(new Job(action));

    private sealed class Job
    {
        public Job(GenerationRequest request, Sequence seq, List<AdapterLease> leases, List<(LoraAdapter, double)> loras, string key)
        {
            Request = request;
            Seq = seq;
            Leases = leases;
            Loras = loras;
            LoraKey = key;
        }

        public Job(Action control)
        {
            Control = control;
            Request = null!;
            Seq = null!;
            Leases = [];
            Loras = [];
            LoraKey = string.Empty;
        }

        public Action? Control { get; }

        public GenerationRequest Request { get; }

        public Sequence Seq { get; }

        public List<AdapterLease> Leases { get; }

        public List<(LoraAdapter Adapter, double Weight)> Loras { get; }

        /// <summary>The LoRA combination ("" = base weights); merged mode groups requests by it.</summary>
        public string LoraKey { get; }

        public List<SlotWeight>? Slots { get; set; }

        public int Row { get; set; } = -1;

        public Channel<TokenEvent> Out { get; } = Channel.CreateUnbounded<TokenEvent>(new UnboundedChannelOptions { SingleWriter = true });

        public TaskCompletionSource<GenerationResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public TimeSpan? Admitted { get; set; }

        public TimeSpan? FirstToken { get; set; }

        public System.Text.StringBuilder Text { get; } = new();
    }
}
