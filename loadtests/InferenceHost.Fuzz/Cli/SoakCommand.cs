using System.CommandLine;
using InferenceHost.Fuzz.Soak;

namespace InferenceHost.Fuzz.Cli;

/// <summary><c>soak</c>: valid traffic for a fixed time with an adapter loaded and unloaded every interval.</summary>
internal static class SoakCommand
{
    public static Command Create()
    {
        var target = new TargetOptionSet();
        var duration = TargetOptionSet.Positive(new Option<double>("--duration") { Description = "Seconds of traffic.", DefaultValueFactory = _ => 300 });
        var concurrency = TargetOptionSet.AtLeast(new Option<int>("--concurrency", "-c") { Description = "Requests in flight at once.", DefaultValueFactory = _ => 4 }, 1);
        var swap = TargetOptionSet.Positive(new Option<double>("--swap-interval") { Description = "Seconds between adapter loads (each is unloaded half-way).", DefaultValueFactory = _ => 1 });
        var probe = TargetOptionSet.Positive(new Option<double>("--probe-interval") { Description = "Seconds between temperature-0 probe rounds.", DefaultValueFactory = _ => 15 });
        var tokens = TargetOptionSet.AtLeast(new Option<int>("--max-tokens") { Description = "max_tokens of the traffic.", DefaultValueFactory = _ => 16 }, 1);
        var seed = new Option<int>("--seed") { Description = "Seed of the traffic.", DefaultValueFactory = _ => 1 };
        var rss = TargetOptionSet.Positive(new Option<double>("--max-rss-growth-mib") { Description = "Largest RSS growth over the soak.", DefaultValueFactory = _ => 256 });
        var command = new Command("soak", "Traffic with an adapter loaded and unloaded every interval; probes, statuses and memory checked; exit 1 when a target is missed.")
        {
            duration, concurrency, swap, probe, tokens, seed, rss,
        };
        target.AddTo(command);
        command.SetAction(async (p, ct) =>
        {
            var settings = new SoakSettings
            {
                Target = target.Read(p), DurationSeconds = p.GetValue(duration), Concurrency = p.GetValue(concurrency), SwapIntervalSeconds = p.GetValue(swap),
                ProbeIntervalSeconds = p.GetValue(probe), MaxTokens = p.GetValue(tokens), Seed = p.GetValue(seed), MaxRssGrowthMiB = p.GetValue(rss),
                OutDir = p.GetValue(target.Out) is "results/fuzz" ? "results/soak" : p.GetValue(target.Out)!,
            };
            var report = await SoakRunner.RunAsync(settings, Console.Out, ct);
            Console.WriteLine($"{report.Requests} requests in {report.Seconds:0} s: {string.Join(", ", report.ByStatus.Select(kv => $"{kv.Key} x{kv.Value}"))}");
            foreach (var c in report.Checks)
            {
                Console.WriteLine($"{(c.Met ? "ok  " : "MISS")} {c.Name}: {c.Detail}");
            }

            return report.Passed ? 0 : 1;
        });
        return command;
    }
}
