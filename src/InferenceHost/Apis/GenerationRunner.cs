using System.Diagnostics;
using System.Text.Json;
using InferenceHost.Adapters;
using InferenceHost.Engine;
using InferenceHost.Engine.Generation;
using InferenceHost.Engine.Sampling;
using InferenceHost.Hosting;
using InferenceHost.Telemetry;
using Microsoft.Extensions.Options;

namespace InferenceHost.Apis;

/// <summary>What a completions or chat request asks for, once parsed and validated.</summary>
public sealed record GenerationPlan(
    string Model,
    IReadOnlyList<IReadOnlyList<int>> Prompts,
    IReadOnlyList<string> PromptTexts,
    int N,
    SamplingParams Sampling,
    IReadOnlyList<AdapterRequest> Adapters,
    bool Stream,
    bool IncludeUsage);

/// <summary>One finished choice: its index, result and the token events it produced.</summary>
public sealed record ChoiceResult(int Index, int Prompt, GenerationResult Result, IReadOnlyList<TokenEvent> Events);

/// <summary>How an API shapes its responses (completions and chat differ only here).</summary>
public interface IResponseShape
{
    object Response(string id, long created, string model, IReadOnlyList<ChoiceResult> choices, object usage, GenerationPlan plan);

    IEnumerable<object> StartChunks(string id, long created, string model, int index, int prompt);

    object TokenChunk(string id, long created, string model, int index, TokenEvent e, string text);

    object FinishChunk(string id, long created, string model, int index, GenerationResult r, string rest);

    object UsageChunk(string id, long created, string model, object usage);
}

/// <summary>The services a generation route uses, injected (eShop's <c>[AsParameters]</c> services record).</summary>
public sealed record GenerationServices(ModelHost Host, InferenceTelemetry Telemetry, IOptions<ServerOptions> Server);

/// <summary>
/// Submits a plan's prompts × n to the engine and writes the answer: one JSON body, or server-sent events
/// flushed per token. The client's disconnect cancels every submission. A choice that fails ends alone: in a
/// stream it gets an error event and the others go on; without streaming the request answers with its error.
/// </summary>
public static class GenerationRunner
{
    /// <summary>The loaded model, or a 503 while it loads (or failed to).</summary>
    public static Served Ready(this ModelHost host) => host.IsReady
        ? host.Current
        : throw new ApiException(503, host.LoadError is { } e ? $"the model failed to load: {e}" : "the model is still loading; retry shortly", code: "model_not_ready") { RetryAfter = 1 };

    /// <summary>Maps <c>model</c> (base name or adapter name) plus the <c>adapters</c> extension to the adapters a request uses.</summary>
    public static IReadOnlyList<AdapterRequest> ResolveModel(Served s, string? model, IReadOnlyList<AdapterRequest> extra)
    {
        if (model is null || model == s.Name)
        {
            return extra;
        }

        if (s.Registry.Info(model) is { Error: null })
        {
            return [new AdapterRequest(model), .. extra];
        }

        var known = string.Join(", ", new[] { s.Name }.Concat(s.Registry.Names));
        throw ApiException.NotFound($"model '{model}' does not exist; available: {known}");
    }

    public static async Task RunAsync(HttpContext context, GenerationServices services, GenerationPlan plan, IResponseShape shape, string idPrefix)
    {
        var served = services.Host.Ready();
        if ((long)plan.Prompts.Count * plan.N > served.Engine.MaxQueuedRequests)
        {
            throw ApiException.BadRequest($"{plan.Prompts.Count} prompt(s) × n={plan.N} is more than the {served.Engine.MaxQueuedRequests} requests the queue can ever hold (Engine:MaxQueuedRequests)", "n");
        }

        var adapterTag = plan.Adapters.Count == 0 ? "base" : string.Join("+", plan.Adapters.Select(a => a.Name));
        using var activity = InferenceTelemetry.Source.StartActivity(idPrefix == "chatcmpl" ? "chat.completion" : "completion");
        activity?.SetTag("inference.model", plan.Model);
        activity?.SetTag("inference.adapter", adapterTag);
        activity?.SetTag("inference.prompt_tokens", plan.Prompts.Sum(p => p.Count));

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var timeout = services.Server.Value.RequestTimeoutSeconds;
        var handles = Submit(served.Engine, plan, cts, timeout > 0 ? DateTimeOffset.UtcNow.AddSeconds(timeout) : null);
        var id = $"{idPrefix}-{Guid.NewGuid():N}";
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var results = plan.Stream
            ? await ServerSentEvents.StreamAsync(context, plan, shape, handles, id, created)
            : await CollectAsync(handles, context.RequestAborted);
        if (results is null)
        {
            return; // the client went away
        }

        foreach (var r in results)
        {
            services.Telemetry.Record(r.Result, adapterTag);
        }

        activity?.SetTag("inference.completion_tokens", results.Sum(r => r.Result.TokenIds.Count));
        activity?.SetTag("inference.queue_time_ms", results.Max(r => r.Result.QueueTime.TotalMilliseconds));
        activity?.SetTag("inference.mode", results[0].Result.Mode);
        if (results.FirstOrDefault(r => r.Result.Finish == FinishReason.Error) is { } failed)
        {
            activity?.SetStatus(ActivityStatusCode.Error);
            if (!plan.Stream)
            {
                throw Failure(failed);
            }
        }

        if (!plan.Stream)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(shape.Response(id, created, plan.Model, results, Usage(plan, results), plan)), context.RequestAborted);
        }
    }

    /// <summary>The error a failed choice answers with: 400 when the request caused it, else 500 with the reason.</summary>
    public static ApiException Failure(ChoiceResult c) => c.Result.Error switch
    {
        RequestFailedException { CausedByRequest: true } e => ApiException.BadRequest($"choice {c.Index}: {e.Message}", e.Field),
        AdapterException e => ApiException.BadRequest($"choice {c.Index}: {e.Message}", "adapters", "invalid_adapter"),
        { } e => new ApiException(500, $"choice {c.Index} failed: {e.Message}", code: "generation_failed"),
        null => new ApiException(500, $"choice {c.Index} failed", code: "generation_failed"),
    };

    public static object Usage(GenerationPlan plan, IReadOnlyList<ChoiceResult> results)
    {
        var prompt = plan.Prompts.Sum(p => p.Count);
        var completion = results.Sum(r => r.Result.TokenIds.Count);
        return new { prompt_tokens = prompt, completion_tokens = completion, total_tokens = prompt + completion };
    }

    public static string FinishReasonText(FinishReason f) => f switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.Deadline => "timeout",
        _ => "abort",
    };

    /// <summary>Submits every prompt × n; if one is refused, the ones already submitted are cancelled and the refusal answers.</summary>
    private static List<(int Index, int Prompt, GenerationHandle Handle)> Submit(InferenceEngine engine, GenerationPlan plan, CancellationTokenSource cts, DateTimeOffset? deadline)
    {
        var handles = new List<(int, int, GenerationHandle)>();
        try
        {
            for (var p = 0; p < plan.Prompts.Count; p++)
            {
                for (var i = 0; i < plan.N; i++)
                {
                    var sampling = plan.Sampling.Seed is { } seed && i > 0 ? plan.Sampling with { Seed = seed + i } : plan.Sampling;
                    handles.Add((p * plan.N + i, p, engine.Submit(new GenerationRequest
                    {
                        PromptIds = plan.Prompts[p],
                        Sampling = sampling,
                        Adapters = plan.Adapters,
                        Cancellation = cts.Token,
                        Deadline = deadline,
                    })));
                }
            }
        }
        catch (Exception e) when (e is InvalidRequestException or UnknownAdapterException or QueueFullException)
        {
            cts.Cancel();
            throw e switch
            {
                InvalidRequestException a => ApiException.BadRequest(a.Message, a.Field),
                UnknownAdapterException u => ApiException.NotFound(u.Message, "adapters"),
                _ => new ApiException(429, e.Message, code: "queue_full") { RetryAfter = 1 },
            };
        }

        return handles;
    }

    private static async Task<IReadOnlyList<ChoiceResult>?> CollectAsync(List<(int Index, int Prompt, GenerationHandle Handle)> handles, CancellationToken aborted)
    {
        var results = await Task.WhenAll(handles.Select(async h =>
        {
            var events = new List<TokenEvent>();
            await foreach (var e in h.Handle.Tokens.ReadAllAsync(CancellationToken.None))
            {
                events.Add(e);
            }

            return new ChoiceResult(h.Index, h.Prompt, await h.Handle.Completion, events);
        }));
        return aborted.IsCancellationRequested ? null : results.OrderBy(r => r.Index).ToArray();
    }
}
