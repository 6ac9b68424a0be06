using System.Text.RegularExpressions;
using InferenceHost.Gateway.Hosting;
using InferenceHost.Gateway.Tests.Harness;
using InferenceHost.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace InferenceHost.Gateway.Tests.Deploy;

/// <summary>The facts from the code, gathered once: one replica of the tiny model (its routes and its /metrics) and the gateway's routes.</summary>
public sealed class CodeFactsFixture : IAsyncLifetime
{
    private Replica? replica;

    public CodeFacts Facts { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        replica = new Replica(Replica.FreePort(), SyntheticAdapters.TwelveDir, new Dictionary<string, string?>());
        await replica.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(replica.Url) };
        var scrape = await http.GetStringAsync("/metrics");
        var families = Regex.Matches(scrape, @"(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]").Select(m => m.Groups[1].Value).ToHashSet();

        await using var gateway = GatewayApp.Build(["--Gateway:Replicas:0=http://127.0.0.1:1"]);
        var root = TestFixtures.RepoRoot;
        Facts = new CodeFacts(
            GetRoutes(replica.Services.GetRequiredService<EndpointDataSource>()),
            GetRoutes(((IEndpointRouteBuilder)gateway).DataSources.SelectMany(d => d.Endpoints)),
            families,
            new ConfigKeys(typeof(InferenceHost.Hosting.ModelOptions).Assembly, Path.Combine(root, "appsettings.json")),
            new ConfigKeys(typeof(GatewayOptions).Assembly, Path.Combine(root, "src", "InferenceHost.Gateway", GatewayApp.SettingsFile)),
            File.ReadAllText(Path.Combine(root, "Dockerfile")),
            File.ReadAllText(Path.Combine(root, "deploy", "docker", "gateway.Dockerfile")),
            File.ReadAllText(Path.Combine(root, "deploy", "docker", "trainer.Dockerfile")),
            (verb, args) => Trainer.TrainerVerbs.Parse(verb, args));
    }

    private static HashSet<string> GetRoutes(EndpointDataSource source) => GetRoutes(source.Endpoints);

    // GET routes by their literal pattern (the proxy's catch-all is not a route of the gateway's own).
    private static HashSet<string> GetRoutes(IEnumerable<Endpoint> endpoints) => endpoints.OfType<RouteEndpoint>()
        .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods.Contains("GET") == true)
        .Select(e => e.RoutePattern.RawText ?? "").Where(p => !p.Contains("**")).ToHashSet();

    public async Task DisposeAsync()
    {
        if (replica is not null)
        {
            await replica.DisposeAsync();
        }
    }
}

/// <summary>deploy/k8s parsed with YamlDotNet and checked against the code, the Dockerfiles and the server's metrics.</summary>
public sealed class DeploymentManifestTests(CodeFactsFixture code) : IClassFixture<CodeFactsFixture>
{
    [Fact]
    public void The_manifests_agree_with_the_code()
    {
        var manifests = Manifests.Parse(Manifests.Texts());
        Assert.Contains(manifests, m => m.Kind == "Deployment" && m.Name == "inferencehost");
        Assert.Contains(manifests, m => m.Kind == "Job");
        Assert.Contains(manifests, m => m.Kind == "HorizontalPodAutoscaler");
        Assert.Empty(DeploymentChecks.All(manifests, code.Facts));
    }

    [Fact]
    public void The_facts_are_real()
    {
        // The checks are only as good as what they compare with.
        Assert.Contains("/health/ready", code.Facts.ServerGetRoutes);
        Assert.Contains("/health/live", code.Facts.GatewayGetRoutes);
        Assert.Contains("inference_queue_depth", code.Facts.ExportedMetrics);
        Assert.True(code.Facts.ServerKeys.IsKnown("Model__Path"));
        Assert.True(code.Facts.ServerKeys.IsKnown("Adapters__AllowedRoots__0"));
        Assert.True(code.Facts.ServerKeys.IsKnown("Lora__Auto__Window"));
        Assert.True(code.Facts.ServerKeys.IsKnown("Urls"));
        Assert.False(code.Facts.ServerKeys.IsKnown("Adapters__AllowedRoots")); // a list needs an index
        Assert.False(code.Facts.ServerKeys.IsKnown("Gateway__Routing__Mode")); // the gateway's, not the server's
        Assert.True(code.Facts.GatewayKeys.IsKnown("Gateway__Routing__Mode"));
        Assert.True(code.Facts.GatewayKeys.IsKnown("Gateway__Replicas__2"));
    }

    [Theory]
    [InlineData("server-deployment.yaml", "Model__Path", "Model__Pth", "Model__Pth is not a configuration key")]
    [InlineData("gateway-deployment.yaml", "Gateway__Routing__Mode", "Gateway__Routing__Mood", "Gateway__Routing__Mood is not a configuration key")]
    [InlineData("server-deployment.yaml", "path: /health/ready", "path: /healthz", "/healthz is not a GET route")]
    [InlineData("server-deployment.yaml", "containerPort: 8000", "containerPort: 8001", "not the Dockerfile's")]
    [InlineData("gateway-deployment.yaml", "value: inferencehost-replicas", "value: inferencehost-replica", "names no Service")]
    [InlineData("replicas-service.yaml", "clusterIP: None", "clusterIP: 10.0.0.9", "must be headless")]
    [InlineData("hpa.yaml", "name: inference_queue_depth", "name: inference_queue_length", "not exposed by any adapter rule")]
    [InlineData("prometheus-adapter-values.yaml", "'inference_queue_depth{", "'inference_queue_size{", "is not exported by the server")]
    [InlineData("jobs/train-adapter.yaml", "- --val-split", "- --validation-split", "trainer arguments do not parse")]
    [InlineData("jobs/train-adapter.yaml", "claimName: inferencehost-adapters", "claimName: adapters", "volume claim adapters is not declared")]
    public void A_broken_manifest_is_caught(string file, string from, string to, string expected)
    {
        var texts = Manifests.Texts();
        Assert.Contains(from, texts[file]);
        texts[file] = texts[file].Replace(from, to);
        var problems = DeploymentChecks.All(Manifests.Parse(texts), code.Facts);
        Assert.Contains(problems, p => p.Contains(expected));
    }

    [Fact]
    public void An_unknown_template_variable_is_refused()
    {
        var texts = Manifests.Texts();
        texts["jobs/train-adapter.yaml"] += "\n# ${TYPO}\n";
        Assert.Contains("${TYPO}", Assert.Throws<InvalidDataException>(() => Manifests.Parse(texts)).Message);
    }
}
