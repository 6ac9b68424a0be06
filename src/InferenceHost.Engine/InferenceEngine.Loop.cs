using System.Diagnostics;
using InferenceHost.Adapters;
using InferenceHost.Engine.Generation;
using InferenceHost.Engine.Scheduling;
using static TorchSharp.torch;

namespace InferenceHost.Engine;

/// <summary>The engine thread: it asks the scheduler for a plan each step and carries it out.</summary>
public sealed partial class InferenceEngine
{
    private void Loop()
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                Drain();
                DropCancelledAndExpired();
                var plan = PlanStep();
                foreach (var (job, error) in plan.Fail)
                {
                    Finish(job, FinishReason.Error, error);
                }

                foreach (var job in plan.Admit)
                {
                    Start(job);
                }

                PublishGauges();
                if (running.Count == 0)
                {
                    WaitForWork(plan.WakeAt);
                    continue;
                }

                foreach (var pass in plan.Passes)
                {
                    Run(pass);
                }
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // Last resort (a bug outside any one request): fail what is running, keep serving.
                foreach (var job in running.ToArray())
                {
                    Finish(job, FinishReason.Error, new RequestFailedException($"the engine step failed: {e.Message}", inner: e));
                }
            }
        }
    }

    /// <summary>Asks for a plan; a plan that changes the weights is carried out first and the scheduler asked again.</summary>
    private StepPlan<Job> PlanStep()
    {
        for (var i = 0; ; i++)
        {
            var plan = scheduler.Plan(waiting, running, freeRows.Count, DateTimeOffset.UtcNow);
            if (plan.Switch is not { } change || i == 3)
            {
                return plan;
            }

            Execute(change);
        }
    }

    private void Execute(ModeChange<Job> change)
    {
        var clock = Stopwatch.StartNew();
        switch (change)
        {
            case ModeChange<Job>.Unmerge:
                merger.Restore();
                var failed = scheduler.OnUnmerged(running);
                modes.Unmerged(change.Reason, clock.Elapsed);
                failed.ToList().ForEach(f => Finish(f.Job, FinishReason.Error, f.Error));
                break;
            case ModeChange<Job>.Merge(var key, var example, _):
                try
                {
                    merger.Merge(example?.Loras ?? []);
                }
                catch (AdapterException e)
                {
                    // The combination cannot be merged: its requests fail, the base weights stay, nobody else notices.
                    foreach (var job in waiting.Concat(running).Where(j => j.LoraKey == key).ToArray())
                    {
                        Finish(job, FinishReason.Error, e);
                    }

                    return;
                }

                scheduler.OnMerged(running, DateTimeOffset.UtcNow);
                modes.Merged(key, change.Reason, clock.Elapsed);
                break;
        }

        Stats.MergedSwitch(clock.Elapsed);
    }

    private void WaitForWork(DateTimeOffset? wakeAt)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
            if (wakeAt is { } at)
            {
                timeout.CancelAfter(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, (at - DateTimeOffset.UtcNow).Ticks)));
            }

            incoming.Reader.WaitToReadAsync(timeout.Token).AsTask().Wait(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }
        catch (AggregateException e) when (e.InnerException is OperationCanceledException)
        {
        }
    }

    private void Drain()
    {
        while (incoming.Reader.TryRead(out var item))
        {
            switch (item)
            {
                case Action control:
                    control();
                    break;
                case Job job:
                    waiting.Add(job);
                    break;
            }
        }
    }

    private void DropCancelledAndExpired()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var job in waiting.Concat(running).ToArray())
        {
            if (job.Request.Cancellation.IsCancellationRequested)
            {
                Finish(job, FinishReason.Cancelled);
            }
            else if (job.Request.Deadline < now)
            {
                Finish(job, FinishReason.Deadline);
            }
        }
    }

    private void Start(Job job)
    {
        waiting.Remove(job);
        Interlocked.Decrement(ref queued);
        job.Row = freeRows.Pop();
        job.Seq.CacheRow = job.Row;
        job.Admitted = job.Clock.Elapsed;
        running.Add(job);
    }

    /// <summary>
    /// One forward pass over <paramref name="pass"/>. A failure of the batched pass is retried row by row, so a
    /// row whose own input or adapters break the pass fails alone; each row's sampling failure is its own.
    /// </summary>
    private void Run(IReadOnlyList<(Job Job, int Count)> pass)
    {
        RowOutcome[] outcomes;
        try
        {
            outcomes = Forward(pass);
        }
        catch (Exception) when (pass.Count > 1)
        {
            outcomes = pass.Select(row => ForwardAlone(row)).ToArray();
        }
        catch (Exception e)
        {
            outcomes = [new RowOutcome(null, new RequestFailedException($"its forward pass failed: {e.Message}", inner: e))];
        }

        Stats.Step(pass.Count, outcomes.Count(o => o.Token is not null));
        for (var i = 0; i < pass.Count; i++)
        {
            var job = pass[i].Job;
            if (outcomes[i].Failure is { } failure)
            {
                Finish(job, FinishReason.Error, failure);
            }
            else if (outcomes[i].Token is { } e)
            {
                job.FirstToken ??= job.Clock.Elapsed;
                job.Text.Append(e.Text);
                job.Out.Writer.TryWrite(e);
                if (job.Seq.IsFinished)
                {
                    Finish(job, job.Seq.Finish);
                }
            }
        }
    }

    private RowOutcome ForwardAlone((Job Job, int Count) row)
    {
        try
        {
            return Forward([row])[0];
        }
        catch (Exception e)
        {
            return new RowOutcome(null, new RequestFailedException($"its forward pass failed: {e.Message}", inner: e));
        }
    }

    /// <summary>Builds the pass's LoRA delta (none when merged or when no row has slots), then steps.</summary>
    private RowOutcome[] Forward(IReadOnlyList<(Job Job, int Count)> pass)
    {
        using var scope = NewDisposeScope(); // the delta's tensors live for this pass only
        var delta = modes.IsMerged || pass.All(r => r.Job.Slots is null)
            ? null
            : new LoraBatchDelta(buffers, pass.Select(r => r.Job.Slots ?? []).ToList(), model.Model.Device);
        return stepper.Step(pass.Select(w => (w.Job.Seq, w.Count)).ToList(), delta);
    }

    private void Finish(Job job, FinishReason reason, Exception? error = null)
    {
        if (job.Done.Task.IsCompleted)
        {
            return;
        }

        waiting.Remove(job);
        if (running.Remove(job))
        {
            freeRows.Push(job.Row);
        }
        else
        {
            Interlocked.Decrement(ref queued);
        }

        scheduler.Release(job);
        foreach (var lease in job.Leases)
        {
            lease.Dispose();
        }

        job.CancellationWake?.Dispose();
        if (!job.Seq.IsFinished)
        {
            job.Seq.Cancel(reason);
        }

        job.Out.Writer.TryComplete();
        job.Done.TrySetResult(new GenerationResult(job.Request.PromptIds, job.Seq.Generated.ToArray(), job.Text.ToString(), reason,
            job.Seq.FirstStepTopLogits, job.Admitted ?? job.Clock.Elapsed, job.FirstToken, job.Clock.Elapsed, modes.Current.Effective,
            job.Seq.Sampling.PromptLogprobs ? job.Seq.PromptLogprobs.ToArray() : null, error));
        job.Seq.Dispose();
    }

    private void PublishGauges()
    {
        Stats.QueueDepth = waiting.Count;
        Stats.Running = running.Count;
        Stats.SlotsInUse = slots.Snapshot().Count(s => !s.IsFree);
        Stats.LiveTensors = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
    }
}
