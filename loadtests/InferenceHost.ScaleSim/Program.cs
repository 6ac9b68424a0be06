using System.Globalization;
using InferenceHost.CommandLine;
using InferenceHost.Gateway.Routing;
using InferenceHost.LoadTests.Cli;
using InferenceHost.ScaleSim;
using static InferenceHost.CommandLine.CliOption;

// The scale-out simulation (docs/scale-out.md): VERB --help for the options.
CliOption[] shape =
[
    Value("slots", "Device slots per replica, S (default 8: Lora:MaxSlots)."),
    Value("adapters", "Adapter counts, comma-separated (default 8,64,256,1024)."),
    Value("zipf-exponent", "Exponent s of the Zipf popularity (default 1.1)."),
    Value("requests", "Counted requests per configuration (default 100000)."),
    Value("warmup", "Drawn requests before counting, after one per adapter (default 10000)."),
    Value("seed", "Seed of the traffic (default 1)."),
];
CliVerb[] verbs =
[
    new("hit-rate", "Slot hit rate of N replicas x S slots: affinity vs round-robin, uniform vs Zipf popularity, per adapter count.",
        [Value("replicas", "Replicas, N, comma-separated (default 4)."), .. shape], (a, _) => HitRates(a)),
    new("replicas-needed", "Replicas needed to reach a target slot hit rate, per adapter count, popularity and routing.",
        [Value("target", "Target slot hit rate (default 0.9)."), Value("max-replicas", "Largest replica count tried (default 256)."), .. shape],
        (a, _) => Needed(a)),
    new("overhead", "Latency the gateway adds: the same request to a replica directly and through the gateway, alternated (loopback only).",
    [
        Required("direct", "A replica's base URL, e.g. http://127.0.0.1:8001."), Required("gateway", "The gateway's base URL (in front of that replica)."),
        Value("kind", "engine (GET /v1/engine, proxied, no body) or completion (POST /v1/completions, max_tokens 1; default)."),
        Value("model", "The completion's model (default tiny-llama)."), Value("requests", "Requests per side per round (default 300)."),
        Value("warmup", "Pairs sent first and not counted (default 30)."), Value("rounds", "Rounds, each reported (default 4)."),
        Value("api-key", "Bearer key, when the servers have keys."),
    ], (a, _) => OverheadCommand(a)),
];
return CliVerb.Invoke("InferenceHost.ScaleSim: N replicas x S LRU slots behind the gateway's router, on paper; and the gateway's added latency, measured.", verbs, args,
    e => e is CliException or ArgumentException or FormatException or InvalidOperationException or HttpRequestException or OptionException);

static (int Slots, int[] Adapters, double Zipf, int Requests, int Warmup, int Seed) Shape(CliArgs a)
{
    var adapters = Ints(a.List("adapters", "8,64,256,1024"), "adapters");
    var slots = a.Int("slots", 8);
    var requests = a.Int("requests", 100_000);
    if (slots < 1 || requests < 1 || adapters.Any(n => n < 1))
    {
        throw new CliException("--slots, --requests and every --adapters value must be at least 1");
    }

    return (slots, adapters, a.Double("zipf-exponent", 1.1), requests, a.Int("warmup", 10_000), a.Int("seed", 1));
}

static int[] Ints(IReadOnlyList<string> values, string option) =>
    values.Select(v => int.TryParse(v, CultureInfo.InvariantCulture, out var n) ? n : throw new CliException($"--{option}: '{v}' is not an integer")).ToArray();

static IEnumerable<(string Name, Popularity Popularity, RoutingMode Mode)> Columns() =>
[
    ("uniform, affinity", Popularity.Uniform, RoutingMode.Affinity),
    ("uniform, round-robin", Popularity.Uniform, RoutingMode.RoundRobin),
    ("Zipf, affinity", Popularity.Skewed, RoutingMode.Affinity),
    ("Zipf, round-robin", Popularity.Skewed, RoutingMode.RoundRobin),
];

static int HitRates(CliArgs a)
{
    var s = Shape(a);
    var replicaCounts = Ints(a.List("replicas", "4"), "replicas");
    Console.WriteLine($"Slot hit rate, S = {s.Slots} slots per replica, Zipf s = {s.Zipf.ToString(CultureInfo.InvariantCulture)}, {s.Requests} counted requests (seed {s.Seed}); in brackets the busiest replica's share of requests.");
    Console.WriteLine();
    Console.WriteLine($"| replicas | adapters | {string.Join(" | ", Columns().Select(c => c.Name))} |");
    Console.WriteLine($"|---:|---:|{string.Concat(Columns().Select(_ => "---:|"))}");
    foreach (var n in replicaCounts)
    {
        foreach (var count in s.Adapters)
        {
            var cells = Columns().Select(c => Simulation.Run(new SimSettings(n, s.Slots, count, c.Popularity, c.Mode, s.Zipf, s.Requests, s.Warmup, s.Seed)))
                .Select(r => $"{r.HitRate:P1} ({r.BusiestReplicaShare:P0})");
            Console.WriteLine($"| {n} | {count} | {string.Join(" | ", cells)} |");
        }
    }

    return 0;
}

static int OverheadCommand(CliArgs a)
{
    var direct = LoopbackGuard.Validate(a.Require("direct"));
    var gateway = LoopbackGuard.Validate(a.Require("gateway"));
    var kind = a.Get("kind") ?? "completion";
    if (kind is not ("engine" or "completion"))
    {
        throw new CliException($"--kind: '{kind}' is not engine or completion");
    }

    int requests = a.Int("requests", 300), warmup = a.Int("warmup", 30), rounds = a.Int("rounds", 4);
    if (requests < 1 || warmup < 0 || rounds < 1)
    {
        throw new CliException("--requests and --rounds must be at least 1, --warmup at least 0");
    }

    var results = Overhead.RunAsync(direct, gateway, kind, a.Get("model") ?? "tiny-llama", requests, warmup, rounds, a.Get("api-key"), Console.Error).GetAwaiter().GetResult();
    Console.WriteLine($"Gateway overhead, {kind}, {requests} requests per side per round, alternated direct / gateway (ms, send to last byte).");
    Console.WriteLine();
    Console.WriteLine("| round | direct p50 | gateway p50 | added p50 (paired) | direct p90 | gateway p90 |");
    Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
    foreach (var r in results)
    {
        Console.WriteLine($"| {r.Round} | {r.DirectP50Ms:0.000} | {r.GatewayP50Ms:0.000} | {r.PairedP50Ms:0.000} | {r.DirectP90Ms:0.000} | {r.GatewayP90Ms:0.000} |");
    }

    return 0;
}

static int Needed(CliArgs a)
{
    var s = Shape(a);
    var target = a.Double("target", 0.9);
    var max = a.Int("max-replicas", 256);
    if (target is <= 0 or > 1 || max < 1)
    {
        throw new CliException("--target must be in (0, 1] and --max-replicas at least 1");
    }

    Console.WriteLine($"Replicas needed for a slot hit rate of at least {target:P0}, S = {s.Slots} slots each, Zipf s = {s.Zipf.ToString(CultureInfo.InvariantCulture)}, up to {max} replicas; in brackets the hit rate reached.");
    Console.WriteLine();
    Console.WriteLine($"| adapters | {string.Join(" | ", Columns().Select(c => c.Name))} |");
    Console.WriteLine($"|---:|{string.Concat(Columns().Select(_ => "---:|"))}");
    foreach (var count in s.Adapters)
    {
        var cells = Columns().Select(c => Simulation.ReplicasNeeded(new SimSettings(1, s.Slots, count, c.Popularity, c.Mode, s.Zipf, s.Requests, s.Warmup, s.Seed), target, max))
            .Select(r => r is { } x ? $"{x.Replicas} ({x.Result.HitRate:P1})" : $"> {max}");
        Console.WriteLine($"| {count} | {string.Join(" | ", cells)} |");
    }

    return 0;
}
