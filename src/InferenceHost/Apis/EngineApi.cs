using InferenceHost.Hosting;

namespace InferenceHost.Apis;

/// <summary>
/// <c>GET /v1/engine</c>: the LoRA mode as configured and as in effect, auto mode's thresholds, the recent
/// mode switches with their reasons, the batch, queue and slot gauges, and the weights' format and resident bytes.
/// </summary>
public static class EngineApi
{
    public static IEndpointRouteBuilder MapEngineApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").WithTags("Engine").RequireApiKey().MapGet("/engine", Status).WithName("EngineStatus");
        return app;
    }

    private static IResult Status(ModelHost host, Microsoft.Extensions.Options.IOptions<EngineHostOptions> limits)
    {
        var engine = host.Ready().Engine;
        var s = engine.Stats;
        var mode = engine.Mode;
        var p = engine.AutoPolicy;
        return Results.Ok(new
        {
            lora_mode = new
            {
                configured = mode.Configured.ToString().ToLowerInvariant(),
                effective = mode.Effective,
                merged_key = mode.MergedKey,
                auto_policy = new
                {
                    window = p.Window,
                    min_samples = p.MinSamples,
                    enter_merged_share = p.EnterMergedShare,
                    exit_merged_share = p.ExitMergedShare,
                    min_dwell_seconds = p.MinDwell.TotalSeconds,
                },
                switches = engine.ModeHistory.TakeLast(50).Select(h => new { at = h.At, from = h.From, to = h.To, reason = h.Reason, duration_ms = h.Duration.TotalMilliseconds }),
                merged_switches_total = s.MergedSwitches,
                merged_switch_seconds_total = s.MergedSwitchTime.TotalSeconds,
            },
            queue_depth = s.QueueDepth,
            running = s.Running,
            last_batch_size = s.LastBatchSize,
            max_batch_size = limits.Value.MaxBatchSize,
            max_queued_requests = limits.Value.MaxQueuedRequests,
            steps_total = s.Steps,
            generated_tokens_total = s.GeneratedTokens,
            slot_hits_total = s.SlotHits,
            slot_misses_total = s.SlotMisses,
            slots = engine.SlotSnapshot().Select(x => new { index = x.Index, adapter = x.Adapter, pins = x.Pins, unloading = x.Unloading }),
            slot_memory_bytes = new { total = engine.SlotMemory.Total, per_slot = engine.SlotMemory.PerSlot },
            max_sequence_length = engine.MaxSequenceLength,
            kv_cache_bytes = engine.KvCacheBytes,
            weights = new
            {
                dtype = engine.Model.Model.DType.ToString().ToLowerInvariant(),
                quantization = engine.Model.Model.Quantization.ToString().ToLowerInvariant(),
                resident_bytes = engine.Model.Model.WeightBytes,
            },
        });
    }
}
