using System.Text;
using InferenceHost.Apis.Requests;
using InferenceHost.Engine;
using InferenceHost.Engine.Generation;
using InferenceHost.Hosting;
using Microsoft.Extensions.Options;

namespace InferenceHost.Apis;

/// <summary><c>POST /v1/chat/completions</c>: messages rendered with the served model's chat template (<see cref="ChatPrompter"/>).</summary>
public static class ChatApi
{
    public static RouteGroupBuilder MapChatApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Chat").RequireApiKey();
        api.MapPost("/chat/completions", CreateChatCompletion).WithName("CreateChatCompletion");
        return api;
    }

    public static async Task CreateChatCompletion(HttpContext context, [AsParameters] GenerationServices services)
    {
        var served = services.Host.Ready();
        var request = await RequestJson.ReadAsync<ChatCompletionRequest>(context, services.Server.Value.MaxRequestBodyBytes);
        var (prompt, ids) = served.Chat.Render(request.ChatMessages());
        var sampling = request.ToSampling(defaultMaxTokens: served.Engine.MaxSequenceLength - ids.Count);
        var adapters = GenerationRunner.ResolveModel(served, request.Model, request.AdapterRequests());
        var plan = new GenerationPlan(request.Model ?? served.Name, [ids], [prompt], request.Choices, sampling, adapters,
            request.Stream ?? false, request.StreamOptions?.IncludeUsage ?? false);
        await GenerationRunner.RunAsync(context, services, plan, new ChatShape(served, sampling.Logprobs, request.ReturnTokenIds ?? false, ids), "chatcmpl");
    }

    /// <summary>Shapes <c>chat.completion</c> bodies and <c>chat.completion.chunk</c> deltas.</summary>
    private sealed record ChatShape(Served Served, int? TopLogprobs, bool ReturnTokenIds, IReadOnlyList<int> PromptIds) : IResponseShape
    {
        public object Choice(ChoiceResult c)
        {
            var choice = new Dictionary<string, object?>
            {
                ["index"] = c.Index,
                ["message"] = new { role = "assistant", content = c.Result.Text },
                ["logprobs"] = Logprobs(c.Events),
                ["finish_reason"] = GenerationRunner.FinishReasonText(c.Result.Finish),
            };
            if (ReturnTokenIds)
            {
                choice["token_ids"] = c.Result.TokenIds;
            }

            return choice;
        }

        public object Response(string id, long created, string model, IReadOnlyList<ChoiceResult> choices, object usage, GenerationPlan plan)
        {
            var body = new Dictionary<string, object?>
            {
                ["id"] = id,
                ["object"] = "chat.completion",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = choices.Select(Choice).ToArray(),
                ["usage"] = usage,
            };
            if (ReturnTokenIds)
            {
                body["prompt_token_ids"] = PromptIds;
            }

            return body;
        }

        public IEnumerable<object> StartChunks(string id, long created, string model, int index, int prompt) =>
            [Chunk(id, created, model, new { index, delta = new { role = "assistant", content = string.Empty }, logprobs = (object?)null, finish_reason = (string?)null })];

        public object TokenChunk(string id, long created, string model, int index, TokenEvent e, string text) =>
            Chunk(id, created, model, ReturnTokenIds
                ? new { index, delta = new { content = text }, logprobs = Logprobs([e]), finish_reason = (string?)null, token_ids = new[] { e.TokenId } }
                : new { index, delta = new { content = text }, logprobs = Logprobs([e]), finish_reason = (string?)null });

        public object FinishChunk(string id, long created, string model, int index, GenerationResult r, string rest) =>
            Chunk(id, created, model, new { index, delta = rest.Length > 0 ? (object)new { content = rest } : new { }, logprobs = (object?)null, finish_reason = GenerationRunner.FinishReasonText(r.Finish) });

        public object UsageChunk(string id, long created, string model, object usage) =>
            new { id, @object = "chat.completion.chunk", created, model, choices = Array.Empty<object>(), usage };

        private static object Chunk(string id, long created, string model, object choice) =>
            new { id, @object = "chat.completion.chunk", created, model, choices = new[] { choice } };

        private object? Logprobs(IReadOnlyList<TokenEvent> events)
        {
            if (TopLogprobs is not { } top)
            {
                return null;
            }

            var tok = Served.Model.Tokenizer;
            object Entry(int id, float lp)
            {
                var s = tok.Decode([id]);
                return new { token = s, logprob = lp, bytes = Encoding.UTF8.GetBytes(s).Select(b => (int)b).ToArray() };
            }

            return new
            {
                content = events.Select(e =>
                {
                    var s = tok.Decode([e.TokenId]);
                    return new { token = s, logprob = e.Logprob, bytes = Encoding.UTF8.GetBytes(s).Select(b => (int)b).ToArray(), top_logprobs = e.TopLogprobs.Take(top).Select(t => Entry(t.Id, t.Logprob)).ToArray() };
                }).ToArray(),
            };
        }
    }
}
