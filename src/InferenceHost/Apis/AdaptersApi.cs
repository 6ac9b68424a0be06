using InferenceHost.Adapters;
using InferenceHost.Hosting;
using Microsoft.Extensions.Options;

namespace InferenceHost.Apis;

/// <summary>
/// Adapter management at run time (admin key when configured): our own <c>/v1/adapters</c> routes and
/// vLLM's <c>load_lora_adapter</c> / <c>unload_lora_adapter</c>. Paths must stay inside <c>Adapters:AllowedRoots</c>.
/// </summary>
public static class AdaptersApi
{
    public static RouteGroupBuilder MapAdaptersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Adapters").RequireAdminKey();
        api.MapGet("/adapters", List).WithName("ListAdapters");
        api.MapGet("/adapters/{name}", Get).WithName("GetAdapter");
        api.MapPost("/adapters", (HttpContext c, IOptions<ServerOptions> s, IOptions<AdaptersOptions> a, ILogger<Served> log) => Load(c, s, a, log, "name", "path")).WithName("LoadAdapter");
        api.MapDelete("/adapters/{name}", (HttpContext c, string name, ILogger<Served> log) => Unload(c, name, "name", log)).WithName("UnloadAdapter");
        api.MapPost("/load_lora_adapter", (HttpContext c, IOptions<ServerOptions> s, IOptions<AdaptersOptions> a, ILogger<Served> log) => Load(c, s, a, log, "lora_name", "lora_path")).WithName("LoadLoraAdapter");
        api.MapPost("/unload_lora_adapter", UnloadVllm).WithName("UnloadLoraAdapter");
        return api;
    }

    public static IResult List(HttpContext context)
    {
        var s = GenerationRunner.Ready(context);
        return Results.Json(new { @object = "list", data = s.Registry.List().Select(a => Body(s, a)).ToArray() });
    }

    public static IResult Get(HttpContext context, string name)
    {
        var s = GenerationRunner.Ready(context);
        return s.Registry.Info(name) is { } a ? Results.Json(Body(s, a)) : throw NotFound(s, name, "name");
    }

    private static async Task<IResult> Load(HttpContext context, IOptions<ServerOptions> server, IOptions<AdaptersOptions> adapters, ILogger log, string nameField, string pathField)
    {
        var s = GenerationRunner.Ready(context);
        using var doc = await ApiErrors.ReadJsonObjectAsync(context, server.Value.MaxRequestBodyBytes);
        var f = new JsonFields(doc.RootElement);
        var name = f.String(nameField, required: true)!;
        var path = f.String(pathField, required: true)!;
        if (name == s.Name)
        {
            throw ApiException.BadRequest($"'{name}' is the base model's name", nameField);
        }

        var dir = PathGuard.CheckAdapterDirectory(path, adapters.Value.ResolvedRoots(), pathField);
        AdapterInfo info;
        try
        {
            info = await Task.Run(() => s.Registry.Register(name, dir), context.RequestAborted);
        }
        catch (AdapterException e)
        {
            log.LogWarning("Refused adapter {Name} from {Path}: {Message}", name, dir, e.Message);
            throw ApiException.BadRequest(e.Message, e.Field == "name" ? nameField : pathField, "invalid_adapter");
        }

        log.LogInformation("Loaded adapter {Name} from {Path}", name, dir);
        return Results.Json(Body(s, info), statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> UnloadVllm(HttpContext context, IOptions<ServerOptions> server, ILogger<Served> log)
    {
        GenerationRunner.Ready(context);
        using var doc = await ApiErrors.ReadJsonObjectAsync(context, server.Value.MaxRequestBodyBytes);
        return Unload(context, new JsonFields(doc.RootElement).String("lora_name", required: true)!, "lora_name", log);
    }

    private static IResult Unload(HttpContext context, string name, string field, ILogger log)
    {
        var s = GenerationRunner.Ready(context);
        if (!s.Registry.Unregister(name))
        {
            throw NotFound(s, name, field);
        }

        s.Engine.UnloadFromSlots(name);
        log.LogInformation("Unloaded adapter {Name}", name);
        return Results.Json(new { id = name, @object = "adapter", deleted = true });
    }

    private static ApiException NotFound(Served s, string name, string field) =>
        new(404, $"adapter '{name}' does not exist; available: {(s.Registry.Names.Count == 0 ? "(none)" : string.Join(", ", s.Registry.Names))}", field, "adapter_not_found");

    private static object Body(Served s, AdapterInfo a) => ModelsApi.Adapter(s, a, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
}
