using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace InferenceHost.Gateway.Tests.Deploy;

/// <summary>What the code says, against which the manifests are checked.</summary>
public sealed record CodeFacts(
    IReadOnlySet<string> ServerGetRoutes,
    IReadOnlySet<string> GatewayGetRoutes,
    IReadOnlySet<string> ExportedMetrics,
    ConfigKeys ServerKeys,
    ConfigKeys GatewayKeys,
    string ServerDockerfile,
    string GatewayDockerfile,
    string TrainerDockerfile,
    Action<string, IReadOnlyList<string>> ParseTrainerArgs);

/// <summary>
/// The consistency rules between deploy/k8s, the Dockerfiles and the code. Each returns the problems found, one
/// line each naming the file and what is wrong, so a test can show both that the real files pass and that a
/// broken file fails.
/// </summary>
public static partial class DeploymentChecks
{
    public const string ServerImage = "inferencehost";
    public const string GatewayImage = "inferencehost-gateway";
    public const string TrainerImage = "inferencehost-trainer";

    public static List<string> All(IReadOnlyList<Manifest> manifests, CodeFacts facts) =>
    [
        .. Shape(manifests),
        .. Probes(manifests, facts),
        .. Ports(manifests, facts),
        .. Environment(manifests, facts),
        .. Discovery(manifests),
        .. Autoscaling(manifests, facts),
        .. TrainerJob(manifests, facts),
        .. Volumes(manifests),
    ];

    private static string Image(YamlNode container) => (container.Str("image") ?? "").Split(':')[0];

    private static IEnumerable<(Manifest M, YamlMappingNode C)> ContainersOf(IReadOnlyList<Manifest> ms, string image) =>
        ms.SelectMany(m => m.Containers().Select(c => (m, c))).Where(x => Image(x.c) == image);

    public static IEnumerable<string> Shape(IReadOnlyList<Manifest> ms)
    {
        foreach (var m in ms.Where(m => m.Kind != "Kustomization" && !m.File.Contains("prometheus-adapter")))
        {
            if (m.Doc.Str("apiVersion") is null || m.Kind.Length == 0)
            {
                yield return $"{m.File}: a document without apiVersion or kind";
            }

            if (!Dns1123().IsMatch(m.Name))
            {
                yield return $"{m.File}: {m.Kind} name '{m.Name}' is not a DNS-1123 name";
            }
        }

        foreach (var k in ms.Where(m => m.Kind == "Kustomization"))
        {
            foreach (var r in (k.Doc.At("resources") as YamlSequenceNode)?.Children.Select(c => c.ToString()) ?? [])
            {
                if (!ms.Any(m => m.File == r))
                {
                    yield return $"{k.File}: resource {r} does not exist";
                }
            }
        }
    }

    /// <summary>Probe paths are GET routes of the program the image runs, on a port the container declares.</summary>
    public static IEnumerable<string> Probes(IReadOnlyList<Manifest> ms, CodeFacts f)
    {
        foreach (var (image, routes) in new[] { (ServerImage, f.ServerGetRoutes), (GatewayImage, f.GatewayGetRoutes) })
        {
            foreach (var (m, c) in ContainersOf(ms, image))
            {
                var portNames = c.Items("ports").Select(p => p.Str("name")).ToHashSet();
                var portNumbers = c.Items("ports").Select(p => p.Str("containerPort")).ToHashSet();
                foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
                {
                    if (c.At(probe, "httpGet") is not { } get)
                    {
                        if (probe != "startupProbe")
                        {
                            yield return $"{m.File}: container {c.Str("name")} has no {probe} httpGet";
                        }

                        continue;
                    }

                    var path = get.Str("path") ?? "";
                    if (!routes.Contains(path))
                    {
                        yield return $"{m.File}: {probe} path {path} is not a GET route of {image} ({string.Join(", ", routes.Where(r => r.StartsWith("/health")))})";
                    }

                    var port = get.Str("port") ?? "";
                    if (!portNames.Contains(port) && !portNumbers.Contains(port))
                    {
                        yield return $"{m.File}: {probe} port {port} is not a port of container {c.Str("name")}";
                    }
                }

                var readiness = c.Str("readinessProbe", "httpGet", "path");
                var liveness = c.Str("livenessProbe", "httpGet", "path");
                if (readiness != "/health/ready" || liveness != "/health/live")
                {
                    yield return $"{m.File}: readiness must be /health/ready and liveness /health/live (got {readiness}, {liveness})";
                }
            }
        }
    }

    /// <summary>Container ports equal the image's EXPOSE and its Urls; Services and scrape annotations point at them.</summary>
    public static IEnumerable<string> Ports(IReadOnlyList<Manifest> ms, CodeFacts f)
    {
        foreach (var (image, dockerfile) in new[] { (ServerImage, f.ServerDockerfile), (GatewayImage, f.GatewayDockerfile) })
        {
            var exposed = ExposeRe().Match(dockerfile).Groups[1].Value;
            var urlsPort = UrlsRe().Match(dockerfile).Groups[1].Value;
            foreach (var (m, c) in ContainersOf(ms, image))
            {
                var port = c.Str("ports", 0, "containerPort");
                if (port != exposed || port != urlsPort)
                {
                    yield return $"{m.File}: container port {port} of {image} is not the Dockerfile's (EXPOSE {exposed}, Urls port {urlsPort})";
                }

                if (c.Env().TryGetValue("Urls", out var urls) && urls is not null && !urls.EndsWith($":{port}"))
                {
                    yield return $"{m.File}: Urls {urls} does not listen on the container port {port}";
                }

                if (m.Doc.Str("spec", "template", "metadata", "annotations", "prometheus.io/port") is { } scrape && scrape != port)
                {
                    yield return $"{m.File}: prometheus.io/port {scrape} is not the container port {port}";
                }

                if (c.At("command") is not null)
                {
                    yield return $"{m.File}: container {c.Str("name")} overrides the image's ENTRYPOINT";
                }
            }
        }

        foreach (var svc in ms.Where(m => m.Kind == "Service"))
        {
            var selector = svc.Doc.Labels("spec", "selector");
            var pods = ms.Where(m => m.Kind == "Deployment" && selector.All(kv => m.Doc.Labels("spec", "template", "metadata", "labels").GetValueOrDefault(kv.Key) == kv.Value)).ToArray();
            if (pods.Length != 1)
            {
                yield return $"{svc.File}: Service {svc.Name} selects {pods.Length} Deployments (want 1)";
                continue;
            }

            var names = pods[0].Containers().SelectMany(c => c.Items("ports")).Select(p => p.Str("name")).ToHashSet();
            foreach (var p in svc.Doc.Items("spec", "ports"))
            {
                if (!names.Contains(p.Str("targetPort")))
                {
                    yield return $"{svc.File}: targetPort {p.Str("targetPort")} is not a named port of {pods[0].Name}";
                }
            }
        }
    }

    /// <summary>Every environment variable of the server and gateway containers is a configuration key of that program.</summary>
    public static IEnumerable<string> Environment(IReadOnlyList<Manifest> ms, CodeFacts f)
    {
        foreach (var (image, keys) in new[] { (ServerImage, f.ServerKeys), (GatewayImage, f.GatewayKeys) })
        {
            foreach (var (m, c) in ContainersOf(ms, image))
            {
                foreach (var name in c.Env().Keys.Where(n => !keys.IsKnown(n)))
                {
                    yield return $"{m.File}: environment variable {name} is not a configuration key of {image}";
                }
            }
        }

        // The image's own ENV lines too (the Deployment inherits them).
        foreach (var (image, dockerfile, keys) in new[] { (ServerImage, f.ServerDockerfile, f.ServerKeys), (GatewayImage, f.GatewayDockerfile, f.GatewayKeys) })
        {
            foreach (Match e in EnvLineRe().Matches(dockerfile))
            {
                if (e.Groups[1].Value != "ASPNETCORE_URLS" && !keys.IsKnown(e.Groups[1].Value))
                {
                    yield return $"Dockerfile of {image}: ENV {e.Groups[1].Value} is not a configuration key";
                }
            }
        }
    }

    /// <summary>The gateway's DNS name is the headless Service over the server pods, on the port they serve.</summary>
    public static IEnumerable<string> Discovery(IReadOnlyList<Manifest> ms)
    {
        var gateways = ContainersOf(ms, GatewayImage).ToArray();
        if (gateways.Length == 0)
        {
            yield return "no gateway container";
            yield break;
        }

        foreach (var (m, c) in gateways)
        {
            var env = c.Env();
            var dns = env.GetValueOrDefault("Gateway__Discovery__DnsName") ?? "";
            var service = ms.FirstOrDefault(s => s.Kind == "Service" && s.Name == dns.Split('.')[0]);
            if (service is null)
            {
                yield return $"{m.File}: Gateway__Discovery__DnsName '{dns}' names no Service";
                continue;
            }

            if (service.Doc.Str("spec", "clusterIP") != "None")
            {
                yield return $"{service.File}: {service.Name} must be headless (clusterIP: None) so DNS lists every pod";
            }

            var port = env.GetValueOrDefault("Gateway__Discovery__Port") ?? "8000";
            if (service.Doc.Str("spec", "ports", 0, "port") != port)
            {
                yield return $"{service.File}: port {service.Doc.Str("spec", "ports", 0, "port")} is not Gateway__Discovery__Port {port}";
            }

            var selector = service.Doc.Labels("spec", "selector");
            foreach (var (sm, sc) in ContainersOf(ms, ServerImage).Where(x => x.M.Kind == "Deployment"))
            {
                var labels = sm.Doc.Labels("spec", "template", "metadata", "labels");
                if (selector.Count == 0 || !selector.All(kv => labels.GetValueOrDefault(kv.Key) == kv.Value))
                {
                    yield return $"{service.File}: selector of {service.Name} does not select the server pods of {sm.File}";
                }

                if (sc.Str("ports", 0, "containerPort") != port)
                {
                    yield return $"{sm.File}: the server listens on {sc.Str("ports", 0, "containerPort")}, the gateway dials {port}";
                }
            }
        }
    }

    /// <summary>The HPA scales the server Deployment on a metric the server exports, through the adapter rule that names it.</summary>
    public static IEnumerable<string> Autoscaling(IReadOnlyList<Manifest> ms, CodeFacts f)
    {
        var hpas = ms.Where(m => m.Kind == "HorizontalPodAutoscaler").ToArray();
        var rules = ms.Where(m => m.File.Contains("prometheus-adapter")).SelectMany(m => m.Doc.Items("rules", "custom")).ToArray();
        if (hpas.Length == 0 || rules.Length == 0)
        {
            yield return "want a HorizontalPodAutoscaler and a Prometheus adapter rule";
            yield break;
        }

        foreach (var h in hpas)
        {
            var target = h.Doc.Str("spec", "scaleTargetRef", "name");
            if (!ms.Any(m => m.Kind == "Deployment" && m.Name == target && ContainersOf([m], ServerImage).Any()))
            {
                yield return $"{h.File}: scaleTargetRef {target} is not the server Deployment";
            }

            foreach (var metric in h.Doc.Items("spec", "metrics"))
            {
                var name = metric.Str("pods", "metric", "name") ?? "";
                var rule = rules.FirstOrDefault(r => r.Str("name", "as") == name);
                if (rule is null)
                {
                    yield return $"{h.File}: metric {name} is not exposed by any adapter rule";
                    continue;
                }

                var series = SeriesRe().Match(rule.Str("seriesQuery") ?? "").Groups[1].Value;
                if (!f.ExportedMetrics.Contains(series))
                {
                    yield return $"prometheus adapter rule for {name}: series {series} is not exported by the server ({string.Join(", ", f.ExportedMetrics.Where(x => x.Contains("queue")))})";
                }

                if (!f.ExportedMetrics.Contains(name))
                {
                    yield return $"{h.File}: metric {name} is not a metric the server exports";
                }
            }
        }
    }

    /// <summary>The trainer Job runs a real trainer verb with real options, and writes to the volume the servers read.</summary>
    public static IEnumerable<string> TrainerJob(IReadOnlyList<Manifest> ms, CodeFacts f)
    {
        if (!f.TrainerDockerfile.Contains("\"InferenceHost.Trainer.dll\"", StringComparison.Ordinal))
        {
            yield return "trainer.Dockerfile: the ENTRYPOINT is not the trainer";
        }

        var trainers = ContainersOf(ms, TrainerImage).ToArray();
        if (trainers.Length == 0)
        {
            yield return "no Job runs the trainer image";
        }

        foreach (var (m, c) in trainers)
        {
            var args = (c.At("args") as YamlSequenceNode)?.Children.Select(a => a.ToString()).ToArray() ?? [];
            string? error = null;
            try
            {
                f.ParseTrainerArgs(args.FirstOrDefault() ?? "", args.Skip(1).ToArray());
            }
            catch (Exception e)
            {
                error = e.Message;
            }

            if (error is not null)
            {
                yield return $"{m.File}: trainer arguments do not parse: {error}";
            }
        }
    }

    /// <summary>Every claim a pod mounts is declared in storage.yaml.</summary>
    public static IEnumerable<string> Volumes(IReadOnlyList<Manifest> ms)
    {
        var claims = ms.Where(m => m.Kind == "PersistentVolumeClaim").Select(m => m.Name).ToHashSet();
        foreach (var m in ms.Where(m => m.PodSpec() is not null))
        {
            foreach (var v in m.PodSpec().Items("volumes"))
            {
                if (v.Str("persistentVolumeClaim", "claimName") is { } claim && !claims.Contains(claim))
                {
                    yield return $"{m.File}: volume claim {claim} is not declared";
                }
            }

            var volumes = m.PodSpec().Items("volumes").Select(v => v.Str("name")).ToHashSet();
            foreach (var c in m.Containers())
            {
                foreach (var mount in c.Items("volumeMounts").Where(vm => !volumes.Contains(vm.Str("name"))))
                {
                    yield return $"{m.File}: container {c.Str("name")} mounts unknown volume {mount.Str("name")}";
                }
            }
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123();

    [GeneratedRegex(@"^EXPOSE\s+(\d+)", RegexOptions.Multiline)]
    private static partial Regex ExposeRe();

    [GeneratedRegex(@"(?m)^\s*(?:ENV\s+)?Urls=https?://[^:\s]+:(\d+)")]
    private static partial Regex UrlsRe();

    // ENV KEY=VALUE lines and their continuation lines (KEY=VALUE \).
    [GeneratedRegex(@"(?m)^(?:ENV\s+|[ \t]+)([A-Za-z_][A-Za-z0-9_]*)=")]
    private static partial Regex EnvLineRe();

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)")]
    private static partial Regex SeriesRe();
}
