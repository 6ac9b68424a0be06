using InferenceHost.Adapters;
using InferenceHost.Apis.Requests;
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
        api.MapPost("/adapters", async (HttpContext c, [AsParameters] AdminServices s) =>
        {
            var body = await RequestJson.ReadAsync<LoadAdapterRequest>(c, s.Server.Value.MaxRequestBodyBytes);
            return await Load(c, s, body.Name, body.Path, "name", "path");
        }).WithName("LoadAdapter");
        api.MapDelete("/adapters/{name}", (string name, [AsParameters] AdminServices s) => Unload(s, name, "name")).WithName("UnloadAdapter");
        api.MapPost("/load_lora_adapter", async (HttpContext c, [AsParameters] AdminServices s) =>
        {
            var body = await RequestJson.ReadAsync<LoadLoraAdapterRequest>(c, s.Server.Value.MaxRequestBodyBytes);
            return await Load(c, s, body.LoraName, body.LoraPath, "lora_name", "lora_path");
        }).WithName("LoadLoraAdapter");
        api.MapPost("/unload_lora_adapter", async (HttpContext c, [AsParameters] AdminServices s) =>
        {
            s.Host.Ready();
            var body = await RequestJson.ReadAsync<UnloadLoraAdapterRequest>(c, s.Server.Value.MaxRequestBodyBytes);
            return Unload(s, body.LoraName, "lora_name");
        }).WithName("UnloadLoraAdapter");
        return api;
    }

    public static IResult List(ModelHost host)
    {
        var s = host.Ready();
        return Results.Json(new { @object = "list", data = s.Registry.List().Select(a => Body(s, a)).ToArray() });
    }

    public static IResult Get(ModelHost host, string name)
    {
        var s = host.Ready();
        return s.Registry.Info(name) is { } a ? Results.Json(Body(s, a)) : throw NotFound(s, name, "name");
    }

    private static async Task<IResult> Load(HttpContext context, AdminServices services, string name, string path, string nameField, string pathField)
    {
        var s = services.Host.Ready();
        if (name == s.Name)
        {
            throw ApiException.BadRequest($"'{name}' is the base model's name", nameField);
        }

        var dir = PathGuard.CheckAdapterDirectory(path, services.Adapters.Value.ResolvedRoots(), pathField);
        AdapterInfo info;
        try
        {
            info = await Task.Run(() => s.Registry.Register(name, dir), context.RequestAborted);
        }
        catch (AdapterException e)
        {
            services.Log.LogWarning("Refused adapter {Name} from {Path}: {Message}", name, dir, e.Message);
            throw ApiException.BadRequest(e.Message, e.Field == "name" ? nameField : pathField, "invalid_adapter");
        }

        services.Log.LogInformation("Loaded adapter {Name} from {Path}", name, dir);
        return Results.Json(Body(s, info), statusCode: StatusCodes.Status201Created);
    }

    private static IResult Unload(AdminServices services, string name, string field)
    {
        var s = services.Host.Ready();
        if (!s.Registry.Unregister(name))
        {
            throw NotFound(s, name, field);
        }

        s.Engine.UnloadFromSlots(name);
        services.Log.LogInformation("Unloaded adapter {Name}", name);
        return Results.Json(new { id = name, @object = "adapter", deleted = true });
    }

    private static ApiException NotFound(Served s, string name, string field) =>
        new(404, $"adapter '{name}' does not exist; available: {(s.Registry.Names.Count == 0 ? "(none)" : string.Join(", ", s.Registry.Names))}", field, "adapter_not_found");

    private static object Body(Served s, AdapterInfo a) => ModelsApi.Adapter(s, a, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
}

/// <summary>The services the adapter routes use.</summary>
public sealed record AdminServices(ModelHost Host, IOptions<ServerOptions> Server, IOptions<AdaptersOptions> Adapters, ILogger<Served> Log);
