using System.Text;
using System.Text.Json;
using InferenceHost.Engine;
using InferenceHost.Engine.Generation;
using InferenceHost.Hosting;
using Microsoft.Extensions.Options;

namespace InferenceHost.Apis;

/// <summary><c>POST /v1/chat/completions</c>: messages rendered with the served model's chat template (<see cref="ChatPrompter"/>).</summary>
public static class ChatApi
{
    private static readonly string[] Roles = ["system", "user", "assistant", "developer", "tool"];

    public static RouteGroupBuilder MapChatApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Chat").RequireApiKey();
        api.MapPost("/chat/completions", CreateChatCompletion).WithName("CreateChatCompletion");
        return api;
    }

    public static async Task CreateChatCompletion(HttpContext context, IOptions<ServerOptions> server)
    {
        var served = GenerationRunner.Ready(context);
        using var doc = await ApiErrors.ReadJsonObjectAsync(context, server.Value.MaxRequestBodyBytes);
        var f = new JsonFields(doc.RootElement);
        var messages = Messages(f);
        var (prompt, ids) = served.Chat.Render(messages);
        var logprobs = f.Bool("logprobs");
        var top = f.Int("top_logprobs", 0, 20) ?? 0;
        var field = f.Has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        var plan = CompletionsApi.Plan(f, served, [ids], [prompt], field, logprobs: logprobs ? top : 0);
        await GenerationRunner.RunAsync(context, served, plan, new ChatShape(served, logprobs ? top : null, f.Bool("return_token_ids"), ids), "chatcmpl");
    }

    private static IReadOnlyList<ChatMessage> Messages(JsonFields f)
    {
        var m = f.Get("messages") ?? throw JsonFields.Missing("messages");
        if (m.ValueKind != JsonValueKind.Array || m.GetArrayLength() == 0)
        {
            throw JsonFields.Type("messages", "a non-empty list of {\"role\", \"content\"} objects");
        }

        return m.EnumerateArray().Select((e, i) =>
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                throw JsonFields.Type($"messages[{i}]", "an object with role and content");
            }

            var item = new JsonFields(e);
            var role = item.String("role", required: true)!;
            if (!Roles.Contains(role))
            {
                throw ApiException.BadRequest($"'messages[{i}].role' must be one of {string.Join(", ", Roles)}", $"messages[{i}].role");
            }

            return new ChatMessage(role == "developer" ? "system" : role, Content(item.Get("content"), i));
        }).ToArray();
    }

    // Content is a string or a list of {"type": "text", "text": ...} parts.
    private static string Content(JsonElement? content, int i)
    {
        switch (content)
        {
            case null:
                return string.Empty;
            case { ValueKind: JsonValueKind.String } s:
                return s.GetString()!;
            case { ValueKind: JsonValueKind.Array } parts:
                var sb = new StringBuilder();
                foreach (var p in parts.EnumerateArray())
                {
                    var part = new JsonFields(p);
                    if (p.ValueKind != JsonValueKind.Object || part.String("type") != "text")
                    {
                        throw ApiException.BadRequest($"'messages[{i}].content' parts must be {{\"type\": \"text\", \"text\": ...}}", $"messages[{i}].content");
                    }

                    sb.Append(part.String("text"));
                }

                return sb.ToString();
            default:
                throw JsonFields.Type($"messages[{i}].content", "a string or a list of text parts");
        }
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
