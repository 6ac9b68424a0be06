using System.Text.Json;
using InferenceHost.Engine;
using InferenceHost.Engine.Generation;
using InferenceHost.Engine.Sampling;
using InferenceHost.Hosting;
using Microsoft.Extensions.Options;

namespace InferenceHost.Apis;

/// <summary><c>POST /v1/completions</c>: OpenAI's legacy completions, with vLLM-style extensions.</summary>
public static class CompletionsApi
{
    public static RouteGroupBuilder MapCompletionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Completions").RequireApiKey();
        api.MapPost("/completions", CreateCompletion).WithName("CreateCompletion");
        return api;
    }

    public static async Task CreateCompletion(HttpContext context, IOptions<ServerOptions> server)
    {
        var served = GenerationRunner.Ready(context);
        using var doc = await ApiErrors.ReadJsonObjectAsync(context, server.Value.MaxRequestBodyBytes);
        var f = new JsonFields(doc.RootElement);
        var (ids, texts) = Prompts(f, served);
        var plan = Plan(f, served, ids, texts, maxTokensField: "max_tokens");
        var shape = new CompletionShape(
            served,
            Echo: f.Bool("echo"),
            Logprobs: f.Has("logprobs") ? plan.Sampling.Logprobs : null,
            ReturnTokenIds: f.Bool("return_token_ids"),
            PromptTexts: texts,
            PromptIds: ids);
        await GenerationRunner.RunAsync(context, served, plan, shape, "cmpl");
    }

    /// <summary>The sampling fields shared with chat; <paramref name="maxTokensField"/> names the length field.</summary>
    public static GenerationPlan Plan(JsonFields f, Served served, IReadOnlyList<IReadOnlyList<int>> ids, IReadOnlyList<string> texts, string maxTokensField, int? logprobs = null)
    {
        var model = f.String("model");
        var extra = GenerationRunner.ParseAdapters(f);
        var adapters = GenerationRunner.ResolveModel(served, model, extra);
        var maxTokens = f.Int(maxTokensField, 1, 1 << 24) ?? (maxTokensField == "max_tokens" ? 16 : Math.Max(1, served.Engine.MaxSequenceLength - ids.Max(p => p.Count)));
        var sampling = new SamplingParams
        {
            MaxTokens = maxTokens,
            Temperature = f.Double("temperature", 0, 2) ?? 1.0,
            TopP = f.Double("top_p", double.Epsilon, 1) ?? 1.0,
            TopK = f.Int("top_k", -1, 1 << 20) is { } k and > 0 ? k : 0,
            Seed = f.Long("seed"),
            Stop = f.Strings("stop"),
            IgnoreEos = f.Bool("ignore_eos"),
            Logprobs = logprobs ?? f.Int("logprobs", 0, 20) ?? 0,
        };
        if (sampling.Stop.Any(string.IsNullOrEmpty))
        {
            throw ApiException.BadRequest("'stop' strings must not be empty", "stop");
        }

        f.String("user");
        var stream = f.Bool("stream");
        var includeUsage = f.Object("stream_options").Bool("include_usage");
        return new GenerationPlan(model ?? served.Name, ids, texts, f.Int("n", 1, 128) ?? 1, sampling, adapters, stream, includeUsage);
    }

    private static (IReadOnlyList<IReadOnlyList<int>>, IReadOnlyList<string>) Prompts(JsonFields f, Served served)
    {
        var tok = served.Model.Tokenizer;
        var p = f.Get("prompt") ?? throw JsonFields.Missing("prompt");
        const string What = "a string, a list of strings, a list of token ids or a list of lists of token ids";
        switch (p.ValueKind)
        {
            case JsonValueKind.String:
                var s = p.GetString()!;
                return ([tok.Encode(s)], [s]);
            case JsonValueKind.Array when p.GetArrayLength() == 0:
                throw ApiException.BadRequest("'prompt' must not be empty", "prompt");
            case JsonValueKind.Array when p[0].ValueKind == JsonValueKind.Number:
                var ids = TokenIds(p, tok.VocabSize);
                return ([ids], [tok.Decode(ids)]);
            case JsonValueKind.Array:
                var items = p.EnumerateArray().ToArray();
                if (items.All(e => e.ValueKind == JsonValueKind.String))
                {
                    var texts = items.Select(e => e.GetString()!).ToArray();
                    return (texts.Select(t => tok.Encode(t)).ToArray(), texts);
                }

                if (items.All(e => e.ValueKind == JsonValueKind.Array))
                {
                    var lists = items.Select(e => TokenIds(e, tok.VocabSize)).ToArray();
                    return (lists, lists.Select(l => tok.Decode(l)).ToArray());
                }

                throw JsonFields.Type("prompt", What);
            default:
                throw JsonFields.Type("prompt", What);
        }
    }

    private static IReadOnlyList<int> TokenIds(JsonElement a, int vocab) => a.EnumerateArray().Select(e =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var id) && id >= 0 && id < vocab
            ? id
            : throw ApiException.BadRequest($"'prompt' token ids must be integers in [0, {vocab})", "prompt")).ToArray();

    /// <summary>Shapes <c>text_completion</c> bodies and chunks.</summary>
    private sealed record CompletionShape(Served Served, bool Echo, int? Logprobs, bool ReturnTokenIds, IReadOnlyList<string> PromptTexts, IReadOnlyList<IReadOnlyList<int>> PromptIds) : IResponseShape
    {
        public object Choice(ChoiceResult c) => ChoiceBody(c.Index, (Echo ? PromptTexts[c.Prompt] : string.Empty) + c.Result.Text,
            GenerationRunner.FinishReasonText(c.Result.Finish), LogprobsBody(c.Events, Echo ? PromptTexts[c.Prompt].Length : 0), ReturnTokenIds ? c.Result.TokenIds : null);

        public object Response(string id, long created, string model, IReadOnlyList<ChoiceResult> choices, object usage, GenerationPlan plan)
        {
            var body = new Dictionary<string, object?>
            {
                ["id"] = id,
                ["object"] = "text_completion",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = choices.Select(Choice).ToArray(),
                ["usage"] = usage,
            };
            if (ReturnTokenIds)
            {
                body["prompt_token_ids"] = PromptIds.Count == 1 ? PromptIds[0] : PromptIds;
            }

            return body;
        }

        public IEnumerable<object> StartChunks(string id, long created, string model, int index, int prompt) =>
            Echo ? [Chunk(id, created, model, ChoiceBody(index, PromptTexts[prompt], null, null, null))] : [];

        public object TokenChunk(string id, long created, string model, int index, TokenEvent e, string text) =>
            Chunk(id, created, model, ChoiceBody(index, text, null, LogprobsBody([e], 0), ReturnTokenIds ? [e.TokenId] : null));

        public object FinishChunk(string id, long created, string model, int index, GenerationResult r, string rest) =>
            Chunk(id, created, model, ChoiceBody(index, rest, GenerationRunner.FinishReasonText(r.Finish), null, null));

        public object UsageChunk(string id, long created, string model, object usage) =>
            new { id, @object = "text_completion", created, model, choices = Array.Empty<object>(), usage };

        private static object Chunk(string id, long created, string model, object choice) =>
            new { id, @object = "text_completion", created, model, choices = new[] { choice } };

        private static Dictionary<string, object?> ChoiceBody(int index, string text, string? finish, object? logprobs, IReadOnlyList<int>? tokenIds)
        {
            var c = new Dictionary<string, object?> { ["index"] = index, ["text"] = text, ["logprobs"] = logprobs, ["finish_reason"] = finish };
            if (tokenIds is not null)
            {
                c["token_ids"] = tokenIds;
            }

            return c;
        }

        // OpenAI's legacy shape: parallel lists of token strings, their logprobs, top-N maps and text offsets.
        private object? LogprobsBody(IReadOnlyList<TokenEvent> events, int offset)
        {
            if (Logprobs is not { } top)
            {
                return null;
            }

            var tok = Served.Model.Tokenizer;
            var offsets = new List<int>();
            foreach (var e in events)
            {
                offsets.Add(offset);
                offset += e.Text.Length;
            }

            return new
            {
                tokens = events.Select(e => tok.Decode([e.TokenId])).ToArray(),
                token_logprobs = events.Select(e => e.Logprob).ToArray(),
                top_logprobs = top == 0 ? null : events.Select(e =>
                {
                    var map = new Dictionary<string, float>();
                    foreach (var (tid, lp) in e.TopLogprobs.Take(top))
                    {
                        map.TryAdd(tok.Decode([tid]), lp);
                    }

                    return map;
                }).ToArray(),
                text_offset = offsets,
            };
        }
    }
}
