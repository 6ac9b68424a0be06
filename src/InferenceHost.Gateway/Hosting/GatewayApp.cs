using InferenceHost.Gateway.Apis;
using InferenceHost.Gateway.Discovery;
using InferenceHost.Gateway.Proxy;
using InferenceHost.Gateway.Routing;
using InferenceHost.Gateway.Telemetry;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace InferenceHost.Gateway.Hosting;

/// <summary>The gateway's services and pipeline, in one place so tests host exactly what Program runs.</summary>
public static class GatewayApp
{
    public const string SettingsFile = "gateway.appsettings.json";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        // The gateway's defaults, beside the binary, below every other source (environment and command line win).
        var defaults = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path = Path.Combine(AppContext.BaseDirectory, SettingsFile), Optional = true };
        defaults.ResolveFileProvider();
        builder.Configuration.Sources.Insert(0, defaults);
        configure?.Invoke(builder);
        builder.AddGatewayServices();
        var app = builder.Build();
        app.MapGateway();
        return app;
    }

    public static IHostApplicationBuilder AddGatewayServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Replicas.Count > 0 || o.Discovery.DnsName.Length > 0, "Gateway: set Gateway:Replicas (base URLs) or Gateway:Discovery:DnsName")
            .Validate(o => o.Replicas.All(r => Uri.TryCreate(r, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"), "Gateway:Replicas: every entry must be an absolute http(s) URL")
            .Validate(o => o.Routing.Mode is "affinity" or "round-robin", "Gateway:Routing:Mode must be 'affinity' or 'round-robin'")
            .ValidateOnStart();
        services.AddOptions<GatewayAuthOptions>().BindConfiguration(GatewayAuthOptions.Section).ValidateOnStart();

        services.AddSingleton<GatewayTelemetry>();
        services.AddSingleton<ReplicaMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<ReplicaMonitor>());
        services.AddSingleton<ReplicaConfigProvider>();
        services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<ReplicaConfigProvider>());
        services.AddHostedService(sp => sp.GetRequiredService<ReplicaConfigProvider>());
        services.AddSingleton<ILoadBalancingPolicy, AdapterAffinityPolicy>();
        services.AddSingleton<IPassiveHealthCheckPolicy, ConnectFailurePolicy>();
        services.AddSingleton<IForwarderHttpClientFactory, GuardedForwarderHttpClientFactory>();
        services.AddSingleton<ReplicaResponseTransform>();
        services.AddHttpClient(ReplicaMonitor.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false });
        services.AddReverseProxy().AddTransforms(t =>
            t.ResponseTransforms.Add(t.Services.GetRequiredService<ReplicaResponseTransform>()));

        var otel = services.AddOpenTelemetry()
            .WithTracing(t => t.AddSource("Yarp.ReverseProxy").AddAspNetCoreInstrumentation())
            .WithMetrics(m => m.AddMeter(GatewayTelemetry.Name).AddAspNetCoreInstrumentation().AddPrometheusExporter());
        if (builder.Configuration["OpenTelemetry:OtlpEndpoint"] is { Length: > 0 } endpoint)
        {
            otel.WithTracing(t => t.AddOtlpExporter(o => o.Endpoint = new Uri(endpoint)))
                .WithMetrics(m => m.AddOtlpExporter(o => o.Endpoint = new Uri(endpoint)));
        }

        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        app.UseMiddleware<ReplicaHeaderMiddleware>();
        app.UseMiddleware<GatewayAuthMiddleware>();
        app.MapGatewayApis();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<RequestModelMiddleware>();
            proxy.UseMiddleware<RetryMiddleware>();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        _ = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        return app;
    }
}
