using System.Diagnostics;
using System.Text.Json;
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
    object Choice(ChoiceResult c);

    object Response(string id, long created, string model, IReadOnlyList<ChoiceResult> choices, object usage, GenerationPlan plan);

    IEnumerable<object> StartChunks(string id, long created, string model, int index, int prompt);

    object TokenChunk(string id, long created, string model, int index, TokenEvent e, string text);

    object FinishChunk(string id, long created, string model, int index, GenerationResult r, string rest);

    object UsageChunk(string id, long created, string model, object usage);
}

/// <summary>
/// Submits a plan's prompts × n to the engine and writes the answer: one JSON body, or server-sent events
/// flushed per token. The client's disconnect cancels every submission.
/// </summary>
public static class GenerationRunner
{
    public static Served Ready(HttpContext context)
    {
        var host = context.RequestServices.GetRequiredService<ModelHost>();
        return host.IsReady
            ? host.Current
            : throw new ApiException(503, host.LoadError is { } e ? $"the model failed to load: {e}" : "the model is still loading; retry shortly", code: "model_not_ready") { RetryAfter = 1 };
    }

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

    public static IReadOnlyList<AdapterRequest> ParseAdapters(JsonFields f)
    {
        if (f.Get("adapters") is not { } a)
        {
            return [];
        }

        if (a.ValueKind != JsonValueKind.Array)
        {
            throw JsonFields.Type("adapters", "a list of {\"name\", \"weight\"} objects");
        }

        return a.EnumerateArray().Select(e =>
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                throw JsonFields.Type("adapters", "a list of {\"name\", \"weight\"} objects");
            }

            var item = new JsonFields(e);
            return new AdapterRequest(item.String("name", required: true)!, item.Double("weight", -100, 100) ?? 1.0);
        }).ToArray();
    }

    public static async Task RunAsync(HttpContext context, Served served, GenerationPlan plan, IResponseShape shape, string idPrefix)
    {
        var telemetry = context.RequestServices.GetRequiredService<InferenceTelemetry>();
        var server = context.RequestServices.GetRequiredService<IOptions<ServerOptions>>().Value;
        var adapterTag = plan.Adapters.Count == 0 ? "base" : string.Join("+", plan.Adapters.Select(a => a.Name));
        using var activity = InferenceTelemetry.Source.StartActivity(idPrefix == "chatcmpl" ? "chat.completion" : "completion");
        activity?.SetTag("inference.model", plan.Model);
        activity?.SetTag("inference.adapter", adapterTag);
        activity?.SetTag("inference.prompt_tokens", plan.Prompts.Sum(p => p.Count));

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        DateTimeOffset? deadline = server.RequestTimeoutSeconds > 0 ? DateTimeOffset.UtcNow.AddSeconds(server.RequestTimeoutSeconds) : null;
        var handles = new List<(int Index, int Prompt, GenerationHandle Handle)>();
        try
        {
            for (var p = 0; p < plan.Prompts.Count; p++)
            {
                for (var i = 0; i < plan.N; i++)
                {
                    var sampling = plan.Sampling.Seed is { } seed && i > 0 ? plan.Sampling with { Seed = seed + i } : plan.Sampling;
                    handles.Add((p * plan.N + i, p, served.Engine.Submit(new GenerationRequest
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
        catch (Exception e) when (e is ArgumentException or UnknownAdapterException or QueueFullException)
        {
            await cts.CancelAsync();
            throw Map(e);
        }

        var id = $"{idPrefix}-{Guid.NewGuid():N}";
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var results = plan.Stream
            ? await StreamAsync(context, plan, shape, handles, id, created)
            : await CollectAsync(handles, context.RequestAborted);
        if (results is null)
        {
            return; // streamed, or the client went away
        }

        foreach (var r in results)
        {
            telemetry.Record(r.Result, adapterTag);
        }

        var completionTokens = results.Sum(r => r.Result.TokenIds.Count);
        activity?.SetTag("inference.completion_tokens", completionTokens);
        activity?.SetTag("inference.queue_time_ms", results.Max(r => r.Result.QueueTime.TotalMilliseconds));
        activity?.SetTag("inference.mode", results[0].Result.Mode);
        if (results.FirstOrDefault(r => r.Result.Finish == FinishReason.Error) is { } failed && !plan.Stream)
        {
            activity?.SetStatus(ActivityStatusCode.Error);
            throw new ApiException(500, $"generation failed for choice {failed.Index}", code: "generation_failed");
        }

        if (!plan.Stream)
        {
            var usage = Usage(plan, results);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(shape.Response(id, created, plan.Model, results, usage, plan)), context.RequestAborted);
        }
    }

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
        _ => "abort",
    };

    private static ApiException Map(Exception e) => e switch
    {
        ArgumentException a => ApiException.BadRequest(a.ParamName is { } p ? a.Message.Replace($" (Parameter '{p}')", string.Empty, StringComparison.Ordinal) : a.Message, a.ParamName),
        UnknownAdapterException u => ApiException.NotFound(u.Message, "adapters"),
        QueueFullException q => new ApiException(429, q.Message, code: "queue_full") { RetryAfter = 1 },
        _ => new ApiException(500, e.Message),
    };

    private static async Task<IReadOnlyList<ChoiceResult>?> CollectAsync(List<(int Index, int Prompt, GenerationHandle Handle)> handles, CancellationToken aborted)
    {
        var tasks = handles.Select(async h =>
        {
            var events = new List<TokenEvent>();
            await foreach (var e in h.Handle.Tokens.ReadAllAsync(CancellationToken.None))
            {
                events.Add(e);
            }

            return new ChoiceResult(h.Index, h.Prompt, await h.Handle.Completion, events);
        });
        var results = await Task.WhenAll(tasks);
        return aborted.IsCancellationRequested ? null : results.OrderBy(r => r.Index).ToArray();
    }

    private static async Task<IReadOnlyList<ChoiceResult>?> StreamAsync(
        HttpContext context, GenerationPlan plan, IResponseShape shape, List<(int Index, int Prompt, GenerationHandle Handle)> handles, string id, long created)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var gate = new SemaphoreSlim(1, 1);
        var aborted = context.RequestAborted;

        async Task Send(object payload)
        {
            await gate.WaitAsync(CancellationToken.None);
            try
            {
                if (!aborted.IsCancellationRequested)
                {
                    await response.WriteAsync("data: " + (payload as string ?? JsonSerializer.Serialize(payload)) + "\n\n", aborted);
                    await response.Body.FlushAsync(aborted);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // client gone: the linked token cancels the engine requests
            }
            finally
            {
                gate.Release();
            }
        }

        await response.StartAsync(aborted);
        var tasks = handles.Select(async h =>
        {
            foreach (var start in shape.StartChunks(id, created, plan.Model, h.Index, h.Prompt))
            {
                await Send(start);
            }

            var events = new List<TokenEvent>();
            var streamed = new System.Text.StringBuilder();
            await foreach (var e in h.Handle.Tokens.ReadAllAsync(CancellationToken.None))
            {
                events.Add(e);
                streamed.Append(e.Text);
                await Send(shape.TokenChunk(id, created, plan.Model, h.Index, e, e.Text));
            }

            var result = await h.Handle.Completion;
            var sent = streamed.ToString();
            var rest = result.Text.StartsWith(sent, StringComparison.Ordinal) ? result.Text[sent.Length..] : string.Empty;
            if (result.Finish == FinishReason.Error)
            {
                await Send(ApiErrors.Body(new ApiException(500, $"generation failed for choice {h.Index}", code: "generation_failed")));
            }
            else
            {
                await Send(shape.FinishChunk(id, created, plan.Model, h.Index, result, rest));
            }

            return new ChoiceResult(h.Index, h.Prompt, result, events);
        });
        var results = (await Task.WhenAll(tasks)).OrderBy(r => r.Index).ToArray();
        if (plan.IncludeUsage)
        {
            await Send(shape.UsageChunk(id, created, plan.Model, Usage(plan, results)));
        }

        await Send("[DONE]");
        return aborted.IsCancellationRequested ? null : results;
    }
}
