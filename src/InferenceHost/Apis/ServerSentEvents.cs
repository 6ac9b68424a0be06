using System.Text.Json;
using InferenceHost.Engine;
using InferenceHost.Engine.Generation;

namespace InferenceHost.Apis;

/// <summary>
/// OpenAI-style streaming: <c>data: {chunk}</c> events flushed per token, one error event for a choice that
/// fails (the other choices go on), and <c>data: [DONE]</c> at the end — a stream is never cut silently.
/// </summary>
internal static class ServerSentEvents
{
    public static async Task<IReadOnlyList<ChoiceResult>?> StreamAsync(
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
        var results = (await Task.WhenAll(handles.Select(async h =>
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
            var choice = new ChoiceResult(h.Index, h.Prompt, result, events);
            if (result.Finish == FinishReason.Error)
            {
                await Send(ApiErrors.Body(GenerationRunner.Failure(choice)));
            }
            else
            {
                var sent = streamed.ToString();
                var rest = result.Text.StartsWith(sent, StringComparison.Ordinal) ? result.Text[sent.Length..] : string.Empty;
                await Send(shape.FinishChunk(id, created, plan.Model, h.Index, result, rest));
            }

            return choice;
        }))).OrderBy(r => r.Index).ToArray();
        if (plan.IncludeUsage)
        {
            await Send(shape.UsageChunk(id, created, plan.Model, GenerationRunner.Usage(plan, results)));
        }

        await Send("[DONE]");
        return aborted.IsCancellationRequested ? null : results;
    }
}
