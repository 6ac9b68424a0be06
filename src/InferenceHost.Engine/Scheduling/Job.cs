using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using InferenceHost.Adapters;
using InferenceHost.Engine.Generation;

namespace InferenceHost.Engine.Scheduling;

/// <summary>
/// A request inside the engine, from submission to its result: the sequence it generates, the adapter leases
/// it holds, the slots and KV-cache row it is given, and the channels its caller reads. Engine thread only,
/// except for the channels.
/// </summary>
internal sealed class Job : IScheduled
{
    public Job(GenerationRequest request, Sequence seq, IReadOnlyList<AdapterLease> leases, IReadOnlyList<LoraUse> loras)
    {
        Request = request;
        Seq = seq;
        Leases = leases;
        Loras = loras;
        LoraKey = string.Join("+", loras.OrderBy(l => l.Adapter.Name, StringComparer.Ordinal).Select(l => $"{l.Adapter.Name}*{l.Weight:R}"));
    }

    public GenerationRequest Request { get; }

    public Sequence Seq { get; }

    public IReadOnlyList<AdapterLease> Leases { get; }

    public IReadOnlyList<LoraUse> Loras { get; }

    public string LoraKey { get; }

    public IReadOnlyList<SlotWeight>? Slots { get; set; }

    public bool Prefilling => Seq.Generated.Count == 0;

    public long Pending => BatchStepper.Pending(Seq);

    public DateTimeOffset? Deadline => Request.Deadline;

    /// <summary>The KV-cache row while running, else -1.</summary>
    public int Row { get; set; } = -1;

    /// <summary>Unregisters the cancellation callback that wakes the engine.</summary>
    public IDisposable? CancellationWake { get; set; }

    public Channel<TokenEvent> Out { get; } = Channel.CreateUnbounded<TokenEvent>(new UnboundedChannelOptions { SingleWriter = true });

    public TaskCompletionSource<GenerationResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public TimeSpan? Admitted { get; set; }

    public TimeSpan? FirstToken { get; set; }

    public StringBuilder Text { get; } = new();
}
