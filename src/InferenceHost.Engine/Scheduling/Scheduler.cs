using InferenceHost.Adapters;
using InferenceHost.Adapters.Slots;

namespace InferenceHost.Engine.Scheduling;

/// <summary>
/// Decides each step of continuous batching from the waiting and running requests, without touching a tensor:
/// whether the LoRA mode changes, which requests start (FIFO, pinning their LoRA slots in unmerged mode, or the
/// merged combination's turn in merged mode), and which rows each forward pass feeds (every decode row, then
/// prefill chunks within <see cref="EngineOptions.MaxPrefillTokensPerStep"/>). It owns the slot table; making an
/// adapter resident is the one effect it asks of the engine (<c>loadSlot</c>). Engine thread only.
/// </summary>
internal sealed class Scheduler<T>
    where T : class, IScheduled
{
    private readonly EngineOptions options;
    private readonly ModeController modes;
    private readonly SlotTable slots;
    private readonly Action<int, LoraAdapter> loadSlot;
    private readonly EngineStats stats;
    private DateTimeOffset turnStarted = DateTimeOffset.UtcNow;

    public Scheduler(EngineOptions options, ModeController modes, SlotTable slots, Action<int, LoraAdapter> loadSlot, EngineStats stats)
    {
        this.options = options;
        this.modes = modes;
        this.slots = slots;
        this.loadSlot = loadSlot;
        this.stats = stats;
    }

    public StepPlan<T> Plan(IReadOnlyList<T> waiting, IReadOnlyList<T> running, int freeRows, DateTimeOffset now)
    {
        if (ModeChangeDue(waiting, running) is { } change)
        {
            return StepPlan<T>.Switching(change);
        }

        var admit = new List<T>();
        var fail = new List<(T, Exception)>();
        if (modes.IsMerged && AdmitMerged(waiting, running, freeRows, now, admit) is { } turn)
        {
            return StepPlan<T>.Switching(turn);
        }

        if (!modes.IsMerged)
        {
            AdmitUnmerged(waiting, freeRows, admit, fail);
        }

        var rows = running.Concat(admit).ToList();
        var wake = rows.Count == 0 ? WakeAt(waiting.Except(fail.Select(f => f.Item1)).ToList()) : null;
        return new StepPlan<T>(null, admit, fail, Passes(rows), wake);
    }

    /// <summary>After the weights were restored: every running request moves onto slots; returns those whose adapters cannot be loaded.</summary>
    public IReadOnlyList<(T Job, Exception Error)> OnUnmerged(IEnumerable<T> running)
    {
        var failed = new List<(T, Exception)>();
        foreach (var job in running)
        {
            try
            {
                if (!Pin(job))
                {
                    // Running requests share one combination in merged mode, so this needs more slots than exist.
                    failed.Add((job, new RequestFailedException($"its LoRA combination needs more than the {slots.Capacity} slots (Lora:MaxSlots)")));
                }
            }
            catch (AdapterException e)
            {
                failed.Add((job, e));
            }
        }

        return failed;
    }

    /// <summary>After a combination was merged: running requests leave their slots and a new turn starts.</summary>
    public void OnMerged(IEnumerable<T> running, DateTimeOffset now)
    {
        foreach (var job in running)
        {
            Release(job);
        }

        turnStarted = now;
    }

    /// <summary>Unpins a finished request's slots.</summary>
    public void Release(T job)
    {
        foreach (var s in job.Slots ?? [])
        {
            slots.Release(s.Slot);
        }

        job.Slots = null;
    }

    private ModeChange<T>? ModeChangeDue(IReadOnlyList<T> waiting, IReadOnlyList<T> running)
    {
        var want = modes.WantMerged(running.Concat(waiting).Select(j => j.LoraKey).ToList(), out var reason);
        if (want == modes.IsMerged)
        {
            return null;
        }

        if (!want)
        {
            return new ModeChange<T>.Unmerge(reason);
        }

        // Unmerged → merged happens once every running request uses the same combination.
        var keys = running.Select(j => j.LoraKey).Distinct().ToList();
        if (keys.Count > 1)
        {
            return null;
        }

        // The combination to merge is one a request has (so its LoRAs are known), else the base alone.
        var example = running.FirstOrDefault() ?? running.Concat(waiting).FirstOrDefault(j => j.LoraKey == modes.DominantKey);
        return new ModeChange<T>.Merge(example?.LoraKey ?? string.Empty, example, reason);
    }

    private void AdmitUnmerged(IReadOnlyList<T> waiting, int freeRows, List<T> admit, List<(T, Exception)> fail)
    {
        // Auto mode on its way to merged: admit only the dominant combination so the batch converges.
        var only = modes.WantsMergedSoon ? modes.DominantKey : null;
        foreach (var job in waiting)
        {
            if (only is not null && job.LoraKey != only)
            {
                continue;
            }

            if (admit.Count == freeRows)
            {
                break;
            }

            bool pinned;
            try
            {
                pinned = Pin(job);
            }
            catch (AdapterException e)
            {
                fail.Add((job, e)); // e.g. it targets a module kind without slot buffers: that request fails, nobody else
                continue;
            }

            if (!pinned)
            {
                break; // FIFO: later requests do not overtake one waiting for a slot
            }

            admit.Add(job);
        }
    }

    /// <summary>Merged mode: the current combination's requests start while its turn lasts; returns a new turn to merge, if due.</summary>
    private ModeChange<T>? AdmitMerged(IReadOnlyList<T> waiting, IReadOnlyList<T> running, int freeRows, DateTimeOffset now, List<T> admit)
    {
        if (waiting.Count == 0)
        {
            return null;
        }

        var current = modes.Current.MergedKey ?? string.Empty;
        var turnOver = now - turnStarted > options.MergedTurn;
        var othersWait = waiting.Any(j => j.LoraKey != current);
        if (running.Count == 0)
        {
            // The weights are free: keep the current combination only while its turn lasts (or nobody else waits).
            if (!waiting.Any(j => j.LoraKey == current) || (turnOver && othersWait))
            {
                var next = waiting.First(j => j.LoraKey != current);
                return new ModeChange<T>.Merge(next.LoraKey, next, "the next combination's turn");
            }

            if (turnOver)
            {
                turnStarted = now; // nobody else waits: a fresh turn for the same combination
            }
        }
        else if (othersWait && turnOver)
        {
            return null; // fairness: let the running requests drain, then the next combination gets the weights
        }

        admit.AddRange(waiting.Where(j => j.LoraKey == current).Take(freeRows));
        return null;
    }

    /// <summary>Pins a slot for each of the job's LoRAs, loading it when not resident; all or nothing.</summary>
    private bool Pin(T job)
    {
        if (job.Loras.Count == 0 || job.Slots is not null)
        {
            return true;
        }

        var pinned = new List<SlotWeight>();
        try
        {
            foreach (var (adapter, weight) in job.Loras)
            {
                if (slots.Acquire(adapter.Name, s => loadSlot(s, adapter), out var hit) is not { } slot)
                {
                    pinned.ForEach(p => slots.Release(p.Slot));
                    return false;
                }

                stats.Slot(hit);
                pinned.Add(new SlotWeight(slot, weight));
            }
        }
        catch
        {
            pinned.ForEach(p => slots.Release(p.Slot));
            throw;
        }

        job.Slots = pinned;
        return true;
    }

    private IReadOnlyList<IReadOnlyList<(T, int)>> Passes(List<T> rows)
    {
        var passes = new List<IReadOnlyList<(T, int)>>();
        var decode = rows.Where(j => !j.Prefilling).Select(j => (j, 1)).ToList();
        if (decode.Count > 0)
        {
            passes.Add(decode);
        }

        var budget = options.MaxPrefillTokensPerStep;
        var chunks = new List<(T, int)>();
        foreach (var job in rows.Where(j => j.Prefilling))
        {
            if (budget <= 0)
            {
                break;
            }

            var n = (int)Math.Min(job.Pending, budget);
            chunks.Add((job, n));
            budget -= n;
        }

        if (chunks.Count > 0)
        {
            passes.Add(chunks);
        }

        return passes;
    }

    /// <summary>With nothing to run, when to look again even if no request arrives: a turn's end, auto mode's dwell, a deadline.</summary>
    private DateTimeOffset? WakeAt(IReadOnlyList<T> waiting)
    {
        if (waiting.Count == 0)
        {
            return null;
        }

        var times = waiting.Select(j => j.Deadline).Append(modes.DwellEnds);
        if (modes.IsMerged)
        {
            times = times.Append(turnStarted + options.MergedTurn);
        }

        return times.Where(t => t is not null).Min();
    }
}
