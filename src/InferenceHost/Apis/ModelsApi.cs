using InferenceHost.Adapters;
using InferenceHost.Hosting;

namespace InferenceHost.Apis;

/// <summary><c>GET /v1/models</c>: the base model and every adapter (adapter name = model name, vLLM style).</summary>
public static class ModelsApi
{
    public static RouteGroupBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Models").RequireApiKey();
        api.MapGet("/models", ListModels).WithName("ListModels");
        api.MapGet("/models/{id}", GetModel).WithName("GetModel");
        return api;
    }

    public static IResult ListModels(ModelHost host)
    {
        var s = host.Ready();
        var created = Created(s);
        var data = new List<object> { Base(s, created) };
        data.AddRange(s.Registry.List().Select(a => Adapter(s, a, created)));
        return Results.Json(new { @object = "list", data });
    }

    public static IResult GetModel(ModelHost host, string id)
    {
        var s = host.Ready();
        if (id == s.Name)
        {
            return Results.Json(Base(s, Created(s)));
        }

        return s.Registry.Info(id) is { } a
            ? Results.Json(Adapter(s, a, Created(s)))
            : throw ApiException.NotFound($"model '{id}' does not exist; available: {string.Join(", ", new[] { s.Name }.Concat(s.Registry.Names))}");
    }

    public static object Adapter(Served s, AdapterInfo a, long created) => new
    {
        id = a.Name,
        @object = "model",
        created,
        owned_by = "inferencehost",
        root = a.Name, // paths are the operator's business, not the clients'
        parent = s.Name,
        type = a.Kind switch { AdapterKind.Lora => "lora", AdapterKind.SoftPrompt => "soft_prompt", _ => null },
        rank = a.Rank,
        targets = a.Targets,
        virtual_tokens = a.VirtualTokens,
        memory_bytes = a.MemoryBytes,
        loaded = a.Loaded,
        error = a.Error,
        evaluation = a.Evaluation,
        evaluation_error = a.EvaluationError,
    };

    private static object Base(Served s, long created) => new
    {
        id = s.Name,
        @object = "model",
        created,
        owned_by = "inferencehost",
        root = s.Name,
        parent = (string?)null,
        max_model_len = s.Engine.MaxSequenceLength,
    };

    private static long Created(Served s) => new DateTimeOffset(Directory.GetLastWriteTimeUtc(s.Path)).ToUnixTimeSeconds();
}
