using InferenceHost.Apis;
using InferenceHost.WebConsole;
using InferenceHost.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace InferenceHost.Hosting;

public static class HostingExtensions
{
    /// <summary>Options (validated at start-up), the model host, telemetry.</summary>
    public static IHostApplicationBuilder AddInferenceServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateOnStart();
        services.AddOptions<AdaptersOptions>().BindConfiguration(AdaptersOptions.Section).ValidateOnStart();
        services.AddOptions<LoraOptions>().BindConfiguration(LoraOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EngineHostOptions>().BindConfiguration(EngineHostOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ChatOptions>().BindConfiguration(string.Empty).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelOptions>, ModelOptionsValidator>();
        services.AddSingleton<IValidateOptions<LoraOptions>, LoraOptionsValidator>();
        services.AddSingleton<IValidateOptions<ChatOptions>, ChatOptionsValidator>();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();

        services.AddSingleton<ModelHost>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelHost>());
        services.AddSingleton<InferenceTelemetry>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<TrafficWindow>();
        builder.AddInferenceTelemetry();
        return builder;
    }

    /// <summary>Traces and metrics in one place; Prometheus scrape always, OTLP only when configured.</summary>
    private static void AddInferenceTelemetry(this IHostApplicationBuilder builder)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .WithTracing(t => t.AddSource(InferenceTelemetry.Name).AddAspNetCoreInstrumentation())
            .WithMetrics(m => m.AddMeter(InferenceTelemetry.Name).AddAspNetCoreInstrumentation().AddPrometheusExporter());
        if (builder.Configuration["OpenTelemetry:OtlpEndpoint"] is { Length: > 0 } endpoint)
        {
            otel.WithTracing(t => t.AddOtlpExporter(o => o.Endpoint = new Uri(endpoint)))
                .WithMetrics(m => m.AddOtlpExporter(o => o.Endpoint = new Uri(endpoint)));
        }
    }

    /// <summary>
    /// Reads the appsettings.json shipped beside the binary when the working directory has none, so the
    /// server has its defaults wherever it is started from (before environment and command line, which win).
    /// </summary>
    public static WebApplicationBuilder AddDefaultSettingsFile(this WebApplicationBuilder builder)
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        if (!File.Exists(Path.Combine(builder.Environment.ContentRootPath, "appsettings.json")) && File.Exists(beside))
        {
            var source = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path = beside, Optional = true };
            source.ResolveFileProvider();
            builder.Configuration.Sources.Insert(0, source);
        }

        return builder;
    }

    public static WebApplication MapInferenceApis(this WebApplication app)
    {
        app.UseOpenAiErrors();
        app.MapConsoleApi();
        app.MapHealthApi();
        app.MapCompletionsApi();
        app.MapChatApi();
        app.MapModelsApi();
        app.MapAdaptersApi();
        app.MapEngineApi();
        app.MapTrafficApi();
        app.RequireApiKeyFor("/metrics", app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthOptions>>().Value.ProtectMetrics);
        app.MapPrometheusScrapingEndpoint("/metrics");
        // Instantiate the meter now so gauges exist before the first request.
        _ = app.Services.GetRequiredService<InferenceTelemetry>();
        return app;
    }
}
