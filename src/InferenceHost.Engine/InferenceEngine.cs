using System.Threading.Channels;
using InferenceHost.Adapters;
using InferenceHost.Adapters.Slots;
using InferenceHost.Engine.Generation;
using InferenceHost.Engine.Scheduling;
using InferenceHost.Model;
using InferenceHost.Model.Llama;
using InferenceHost.Model.Quantization;

namespace InferenceHost.Engine;

/// <summary>
/// The serving engine: a queue of requests, continuous batching over a fixed set of KV-cache rows
/// (requests join and leave at step boundaries), chunked prefill, and LoRA application in the
/// configured mode. One background thread owns the model, cache, slots and merger; it asks the
/// <see cref="Scheduler{T}"/> for a plan each step and carries it out. Callers only submit and read
/// their request's channel.
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
    private readonly ModeController modes;
    private readonly Scheduler<Job> scheduler;
    private readonly Channel<object> incoming = Channel.CreateUnbounded<object>(); // Job, or an Action run on the engine thread
    private readonly List<Job> waiting = [];
    private readonly List<Job> running = [];
    private readonly Stack<int> freeRows;
    private readonly Thread loop;
    private readonly CancellationTokenSource stopping = new();
    private int queued;
    private long nextId;

    public InferenceEngine(LoadedModel model, EngineOptions options, AdapterRegistry registry)
    {
        this.model = model;
        this.options = options;
        Registry = registry;
        var quantized = model.Model.Quantization != WeightQuantization.None;
        if (options.Mode == LoraMode.Merged && model.Model.Quantization.MergeRefusal() is { } refusal)
        {
            throw new ArgumentException($"Lora:Mode: {refusal}");
        }

        MaxSequenceLength = options.MaxSequenceLength > 0 ? (int)Math.Min(options.MaxSequenceLength, model.Model.MaxPositions) : (int)model.Model.MaxPositions;
        cache = new KvCache(model.Config, options.MaxBatchSize, MaxSequenceLength, model.Model.DType, model.Model.Device);
        stepper = new BatchStepper(model.Model, cache);
        slots = new SlotTable(options.MaxLoraSlots);
        buffers = new LoraSlotBuffers(model.Model, options.MaxLoraSlots, options.MaxLoraRank, options.LoraTargets.ToHashSet());
        merger = new WeightMerger(model.Model);
        freeRows = new Stack<int>(Enumerable.Range(0, options.MaxBatchSize).Reverse());
        modes = new ModeController(options, quantized);
        Stats = new EngineStats(modes);
        scheduler = new Scheduler<Job>(options, modes, slots, (slot, adapter) => buffers.Load(slot, adapter), Stats);
        loop = new Thread(Loop) { IsBackground = true, Name = "inference-engine" };
        loop.Start();
    }

    public AdapterRegistry Registry { get; }

    public EngineStats Stats { get; }

    public LoadedModel Model => model;

    public int MaxSequenceLength { get; }

    /// <summary>Most requests that may wait at once (prompts × n beyond it can never be accepted).</summary>
    public int MaxQueuedRequests => options.MaxQueuedRequests;

    /// <summary>The LoRA mode: configured, effective, merged combination, last switch.</summary>
    public ModeSnapshot Mode => modes.Current;

    public IReadOnlyList<ModeSwitch> ModeHistory => modes.History;

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
    /// Queues a request. Throws <see cref="InvalidRequestException"/> for a bad request (naming the field),
    /// <see cref="UnknownAdapterException"/>, or <see cref="QueueFullException"/>.
    /// </summary>
    public GenerationHandle Submit(GenerationRequest request)
    {
        request.Sampling.Validate();
        if (request.PromptIds.Count == 0)
        {
            throw new InvalidRequestException("prompt", "the prompt has no tokens");
        }

        var leases = new List<AdapterLease>();
        try
        {
            var job = Resolve(request, leases);
            var needed = job.Seq.MaxLength;
            if (needed > MaxSequenceLength)
            {
                throw new InvalidRequestException("max_tokens",
                    $"prompt ({request.PromptIds.Count} tokens{(job.Seq.PrefixLength > 0 ? $" + {job.Seq.PrefixLength} soft-prompt tokens" : "")}) plus max_tokens ({request.Sampling.MaxTokens}) is {needed}, more than the context length {MaxSequenceLength}");
            }

            if (Interlocked.Increment(ref queued) > options.MaxQueuedRequests)
            {
                Interlocked.Decrement(ref queued);
                throw new QueueFullException(options.MaxQueuedRequests);
            }

            modes.Observe(job.LoraKey);
            if (request.Cancellation.CanBeCanceled)
            {
                job.CancellationWake = request.Cancellation.Register(() => Post(() => { })); // an idle engine notices at once
            }

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
        var loras = new List<LoraUse>();
        SoftPromptAdapter? soft = null;
        foreach (var a in request.Adapters)
        {
            if (!double.IsFinite(a.Weight))
            {
                throw new InvalidRequestException("adapters", $"adapter '{a.Name}': weight must be a finite number");
            }

            AdapterLease? lease;
            try
            {
                lease = Registry.Acquire(a.Name);
            }
            catch (AdapterException e)
            {
                throw new InvalidRequestException("adapters", e.Message); // its files went bad since it was registered
            }

            if (lease is null)
            {
                throw new UnknownAdapterException(a.Name, Registry.Names);
            }

            leases.Add(lease);
            switch (lease.Adapter)
            {
                case LoraAdapter lora:
                    loras.Add(new LoraUse(lora, a.Weight));
                    break;
                case SoftPromptAdapter sp when soft is null:
                    soft = sp;
                    break;
                default:
                    throw new InvalidRequestException("adapters", "a request may use at most one soft prompt");
            }
        }

        var id = Interlocked.Increment(ref nextId);
        var seq = new Sequence(id, request.PromptIds, request.Sampling, model.Tokenizer, model.EosIds)
        {
            Prefix = soft?.Embeddings,
            RecordFirstStepTopLogits = request.RecordFirstStepTopLogits,
        };
        return new Job(request, seq, leases, loras);
    }

    private void Post(Action action) => incoming.Writer.TryWrite(action);
}
