using InferenceHost.Apis.Requests;
using InferenceHost.Engine;
using InferenceHost.Engine.Generation;
using InferenceHost.Hosting;

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

    public static async Task CreateCompletion(HttpContext context, [AsParameters] GenerationServices services)
    {
        var served = services.Host.Ready();
        var request = await RequestJson.ReadAsync<CompletionRequest>(context, services.Server.Value.MaxRequestBodyBytes);
        var (ids, texts) = Prompts(request.Prompt, served);
        var adapters = GenerationRunner.ResolveModel(served, request.Model, request.AdapterRequests());
        var plan = new GenerationPlan(request.Model ?? served.Name, ids, texts, request.Choices, request.ToSampling(), adapters,
            request.Stream ?? false, request.StreamOptions?.IncludeUsage ?? false);
        var shape = new CompletionShape(
            served,
            Echo: request.Echo ?? false,
            Logprobs: plan.Sampling.Logprobs,
            ReturnTokenIds: request.ReturnTokenIds ?? false,
            PromptTexts: texts,
            PromptIds: ids);
        await GenerationRunner.RunAsync(context, services, plan, shape, "cmpl");
    }

    private static (IReadOnlyList<IReadOnlyList<int>>, IReadOnlyList<string>) Prompts(PromptInput prompt, Served served)
    {
        var tok = served.Model.Tokenizer;
        if (prompt.Texts is { } texts)
        {
            return (texts.Select(t => tok.Encode(t)).ToArray(), texts);
        }

        var lists = prompt.Ids!;
        if (lists.Any(l => l.Count == 0 || l.Any(id => id < 0 || id >= tok.VocabSize)))
        {
            throw ApiException.BadRequest($"'prompt' token ids must be non-empty lists of integers in [0, {tok.VocabSize})", "prompt");
        }

        return (lists, lists.Select(l => tok.Decode(l)).ToArray());
    }

    /// <summary>Shapes <c>text_completion</c> bodies and chunks.</summary>
    private sealed record CompletionShape(Served Served, bool Echo, int? Logprobs, bool ReturnTokenIds, IReadOnlyList<string> PromptTexts, IReadOnlyList<IReadOnlyList<int>> PromptIds) : IResponseShape
    {
        public object Choice(ChoiceResult c) => ChoiceBody(c.Index, (Echo ? PromptTexts[c.Prompt] : string.Empty) + c.Result.Text,
            GenerationRunner.FinishReasonText(c.Result.Finish), LogprobsBody(Entries(c), 0), ReturnTokenIds ? c.Result.TokenIds : null);

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
            Chunk(id, created, model, ChoiceBody(index, text, null, LogprobsBody([(e.TokenId, e.Text, e.Logprob, e.TopLogprobs)], 0), ReturnTokenIds ? [e.TokenId] : null));

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

        /// <summary>The tokens a choice's logprobs cover: with echo, the prompt's first (its first logprob is null), then the generated ones.</summary>
        private List<(int Id, string Text, float? Logprob, IReadOnlyList<(int Id, float Logprob)>? Top)> Entries(ChoiceResult c)
        {
            var entries = new List<(int, string, float?, IReadOnlyList<(int, float)>?)>();
            if (Echo && c.Result.PromptLogprobs is { } prompt)
            {
                var tok = Served.Model.Tokenizer;
                entries.AddRange(prompt.Select(p => (p.TokenId, tok.Decode([p.TokenId]), p.Logprob, p.Logprob is null ? null : p.TopLogprobs)));
            }

            entries.AddRange(c.Events.Select(e => (e.TokenId, e.Text, (float?)e.Logprob, (IReadOnlyList<(int, float)>?)e.TopLogprobs)));
            return entries;
        }

        // OpenAI's legacy shape: parallel lists of token strings, their logprobs, top-N maps and text offsets.
        private object? LogprobsBody(IReadOnlyList<(int Id, string Text, float? Logprob, IReadOnlyList<(int Id, float Logprob)>? Top)> entries, int offset)
        {
            if (Logprobs is not { } top)
            {
                return null;
            }

            var tok = Served.Model.Tokenizer;
            var offsets = new List<int>();
            foreach (var e in entries)
            {
                offsets.Add(offset);
                offset += e.Text.Length;
            }

            return new
            {
                tokens = entries.Select(e => tok.Decode([e.Id])).ToArray(),
                token_logprobs = entries.Select(e => e.Logprob).ToArray(),
                top_logprobs = top == 0 ? null : entries.Select(e =>
                {
                    if (e.Top is null)
                    {
                        return null;
                    }

                    var map = new Dictionary<string, float>();
                    foreach (var (tid, lp) in e.Top.Take(top))
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
