using System.Diagnostics;
using InferenceHost.Adapters;
using InferenceHost.Engine.Generation;

namespace InferenceHost.Engine;

/// <summary>The engine thread: admission, mode switches, one step of batched work, completion.</summary>
public sealed partial class InferenceEngine
{
    private bool mergedMode; // the effective mode: weights hold merger.MergedKey
    private DateTimeOffset turnStarted = DateTimeOffset.UtcNow;

    private void Loop()
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                Drain();
                DropCancelled();
                SwitchModeIfDue();
                Admit();
                PublishGauges();
                if (running.Count == 0)
                {
                    WaitForWork();
                    continue;
                }

                Step();
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // A failure inside a step (e.g. out of memory) fails the running requests, not the server.
                foreach (var job in running.ToArray())
                {
                    Finish(job, FinishReason.Error, e);
                }
            }
        }
    }

    private void WaitForWork()
    {
        try
        {
            if (waiting.Count == 0)
            {
                incoming.Reader.WaitToReadAsync(stopping.Token).AsTask().Wait(stopping.Token);
            }
            else
            {
                Thread.Sleep(1); // waiting on slots or a merged turn; re-check shortly
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Drain()
    {
        while (incoming.Reader.TryRead(out var job))
        {
            if (job.Control is { } control)
            {
                control();
            }
            else
            {
                waiting.Add(job);
            }
        }
    }

    private void DropCancelled()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var job in waiting.Concat(running).ToArray())
        {
            if (job.Request.Cancellation.IsCancellationRequested || job.Request.Deadline < now)
            {
                Finish(job, job.Request.Cancellation.IsCancellationRequested ? FinishReason.Cancelled : FinishReason.Length);
            }
        }
    }

    private void SwitchModeIfDue()
    {
        var wantMerged = modes.WantMerged(running.Concat(waiting).Select(j => j.LoraKey).ToList(), out var reason);
        if (wantMerged == mergedMode)
        {
            return;
        }

        if (!wantMerged)
        {
            // Merged → unmerged: base weights back, running requests move onto slots.
            var clock = Stopwatch.StartNew();
            merger.Restore();
            foreach (var job in running)
            {
                AcquireSlots(job, force: true);
            }

            mergedMode = false;
            modes.Record("merged", "unmerged", reason, clock.Elapsed);
            Stats.MergedSwitch(clock.Elapsed);
            Stats.MergedKey = null; // Record sets Stats.Mode
            return;
        }

        // Unmerged → merged happens once every running request uses the same combination.
        var keys = running.Select(j => j.LoraKey).Distinct().ToList();
        if (keys.Count > 1)
        {
            return;
        }

        var key = keys.SingleOrDefault() ?? modes.DominantKey ?? string.Empty;
        var took = MergeKey(key, running.FirstOrDefault(j => j.LoraKey == key) ?? waiting.FirstOrDefault(j => j.LoraKey == key));
        foreach (var job in running)
        {
            ReleaseSlots(job);
        }

        mergedMode = true;
        modes.Record("unmerged", "merged", reason, took);
    }

    private TimeSpan MergeKey(string key, Job? example)
    {
        var clock = Stopwatch.StartNew();
        if (key.Length == 0 || example is null)
        {
            merger.Restore();
        }
        else
        {
            merger.Merge(key, example.Loras);
        }

        turnStarted = DateTimeOffset.UtcNow;
        Stats.MergedSwitch(clock.Elapsed);
        Stats.Mode = "merged";
        Stats.MergedKey = key;
        return clock.Elapsed;
    }

    private void Admit()
    {
        if (mergedMode)
        {
            AdmitMerged();
            return;
        }

        // Auto mode on its way to merged: admit only the dominant combination so the batch converges.
        var only = modes.WantsMergedSoon ? modes.DominantKey : null;
        foreach (var job in waiting.ToArray())
        {
            if (only is not null && job.LoraKey != only)
            {
                continue;
            }

            if (freeRows.Count == 0)
            {
                break;
            }

            bool acquired;
            try
            {
                acquired = AcquireSlots(job, force: false);
            }
            catch (AdapterException e)
            {
                Finish(job, FinishReason.Error, e); // e.g. targets a module kind without slot buffers
                continue;
            }

            if (!acquired)
            {
                break; // FIFO: later requests do not overtake one waiting for a slot
            }

            Start(job);
        }
    }

    private void AdmitMerged()
    {
        if (waiting.Count == 0)
        {
            return;
        }

        var current = merger.MergedKey ?? string.Empty;
        var turnOver = DateTimeOffset.UtcNow - turnStarted > options.MergedTurn;
        var othersWait = waiting.Any(j => j.LoraKey != current);
        if (running.Count == 0)
        {
            // The weights are free: keep the current combination only while its turn lasts (or nobody else waits).
            var hasCurrent = waiting.Any(j => j.LoraKey == current);
            if (!hasCurrent || (turnOver && othersWait))
            {
                var next = waiting.First(j => j.LoraKey != current);
                if (!TryMerge(next))
                {
                    return;
                }

                current = next.LoraKey;
            }
            else if (turnOver)
            {
                turnStarted = DateTimeOffset.UtcNow; // nobody else waits: a fresh turn for the same combination
            }
        }
        else if (othersWait && turnOver)
        {
            return; // fairness: let the running requests drain, then the next combination gets the weights
        }

        foreach (var job in waiting.Where(j => j.LoraKey == current).ToArray())
        {
            if (freeRows.Count == 0)
            {
                break;
            }

            Start(job);
        }
    }

    /// <summary>Merges <paramref name="job"/>'s combination; if it cannot be merged, its requests fail (not the engine).</summary>
    private bool TryMerge(Job job)
    {
        try
        {
            MergeKey(job.LoraKey, job);
            return true;
        }
        catch (AdapterException e)
        {
            foreach (var failed in waiting.Where(j => j.LoraKey == job.LoraKey).ToArray())
            {
                Finish(failed, FinishReason.Error, e);
            }

            return false;
        }
    }

    private void Start(Job job)
    {
        waiting.Remove(job);
        Interlocked.Decrement(ref queued);
        job.Row = freeRows.Pop();
        job.Seq.CacheRow = job.Row;
        job.Seq.AdapterSelection = job.Slots;
        job.Admitted = job.Clock.Elapsed;
        running.Add(job);
    }

    /// <summary>Pins a slot for each of the job's LoRAs; all or nothing. With force, eviction of pinned slots is a bug.</summary>
    private bool AcquireSlots(Job job, bool force)
    {
        if (job.Loras.Count == 0 || job.Slots is not null)
        {
            return true;
        }

        var acquired = new List<SlotWeight>();
        foreach (var (adapter, weight) in job.Loras)
        {
            var slot = slots.Acquire(adapter.Name, s => buffers.Load(s, adapter), out var hit);
            if (slot is null)
            {
                acquired.ForEach(a => slots.Release(a.Slot));
                return force ? throw new InvalidOperationException("no free LoRA slot while switching modes") : false;
            }

            Stats.Slot(hit);
            acquired.Add(new SlotWeight(slot.Value, weight));
        }

        job.Slots = acquired;
        job.Seq.AdapterSelection = acquired;
        return true;
    }

    private void ReleaseSlots(Job job)
    {
        job.Slots?.ForEach(s => slots.Release(s.Slot));
        job.Slots = null;
        if (job.Seq is not null)
        {
            job.Seq.AdapterSelection = null;
        }
    }

    private void Step()
    {
        var decode = running.Where(j => j.Seq.Generated.Count > 0).ToList();
        var prefill = running.Where(j => j.Seq.Generated.Count == 0).ToList();
        if (decode.Count > 0)
        {
            Run(decode.Select(j => (j, 1)).ToList());
        }

        var budget = options.MaxPrefillTokensPerStep;
        var chunks = new List<(Job, int)>();
        foreach (var job in prefill)
        {
            if (budget <= 0)
            {
                break;
            }

            var n = (int)Math.Min(BatchStepper.Pending(job.Seq), budget);
            chunks.Add((job, n));
            budget -= n;
        }

        if (chunks.Count > 0)
        {
            Run(chunks);
        }
    }

    private void Run(List<(Job Job, int Count)> work)
    {
        var events = stepper.Step(work.Select(w => (w.Job.Seq, w.Count)).ToList(), BuildDelta);
        Stats.Step(work.Count, events.Count(e => e is not null));
        for (var i = 0; i < work.Count; i++)
        {
            if (events[i] is not { } e)
            {
                continue;
            }

            var job = work[i].Job;
            job.FirstToken ??= job.Clock.Elapsed;
            job.Text.Append(e.Text);
            job.Out.Writer.TryWrite(e);
            if (job.Seq.IsFinished)
            {
                Finish(job, job.Seq.Finish);
            }
        }
    }

    private LoraBatchDelta? BuildDelta(IReadOnlyList<Sequence> rows)
    {
        if (mergedMode || rows.All(r => r.AdapterSelection is null))
        {
            return null;
        }

        var selections = rows.Select(r => r.AdapterSelection as IReadOnlyList<SlotWeight> ?? []).ToList();
        return new LoraBatchDelta(buffers, selections, model.Model.Device);
    }

    private void Finish(Job job, FinishReason reason, Exception? error = null)
    {
        waiting.Remove(job);
        if (running.Remove(job))
        {
            freeRows.Push(job.Row);
        }
        else if (!job.Done.Task.IsCompleted)
        {
            Interlocked.Decrement(ref queued);
        }

        ReleaseSlots(job);
        job.Leases.ForEach(l => l.Dispose());
        job.Leases.Clear();
        if (!job.Seq.IsFinished)
        {
            job.Seq.Cancel(reason);
        }

        job.Out.Writer.TryComplete(error);
        var result = new GenerationResult(job.Request.PromptIds, job.Seq.Generated.ToArray(), job.Text.ToString(), reason,
            job.Seq.FirstStepTopLogits, job.Admitted ?? job.Clock.Elapsed, job.FirstToken, job.Clock.Elapsed, mergedMode ? "merged" : "unmerged");
        job.Seq.Dispose();
        if (error is null)
        {
            job.Done.TrySetResult(result);
        }
        else
        {
            job.Done.TrySetException(error);
        }
    }

    private void PublishGauges()
    {
        Stats.QueueDepth = waiting.Count;
        Stats.Running = running.Count;
        Stats.SlotsInUse = slots.Snapshot().Count(s => !s.IsFree);
        Stats.LiveTensors = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
    }
}
