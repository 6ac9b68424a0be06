using System.CommandLine;
using InferenceHost.Fuzz.Adapters;
using InferenceHost.Fuzz.Cases;
using InferenceHost.Fuzz.Run;

namespace InferenceHost.Fuzz.Cli;

/// <summary><c>run</c>: the fuzz run; <c>list</c>: the families and broken adapter kinds.</summary>
internal static class FuzzCommand
{
    public static Command Run()
    {
        var target = new TargetOptionSet();
        var requests = TargetOptionSet.AtLeast(new Option<int>("--requests", "-n") { Description = "Mutated requests to send.", DefaultValueFactory = _ => 300 }, 0);
        var seed = new Option<int>("--seed") { Description = "Seed of the mutations (the same seed sends the same requests).", DefaultValueFactory = _ => 1 };
        var concurrency = TargetOptionSet.AtLeast(new Option<int>("--concurrency", "-c") { Description = "Requests in flight at once.", DefaultValueFactory = _ => 4 }, 1);
        var families = new Option<string[]>("--families") { Description = $"Only these request families (default all): {string.Join(", ", Families.Names)}.", AllowMultipleArgumentsPerToken = true };
        var kinds = new Option<string[]>("--adapter-kinds") { Description = "Only these broken adapter kinds or groups (weights, config, special-files, paths, controls); 'none' for none. Default all.", AllowMultipleArgumentsPerToken = true };
        var timeout = TargetOptionSet.Positive(new Option<double>("--request-timeout") { Description = "Seconds without a complete answer that make a hang.", DefaultValueFactory = _ => 30 });
        var bound = TargetOptionSet.Positive(new Option<double>("--admin-bound") { Description = "Seconds every admin load must answer within.", DefaultValueFactory = _ => 10 });
        var rss = TargetOptionSet.Positive(new Option<double>("--max-rss-growth-mib") { Description = "Largest RSS growth of the server over the run.", DefaultValueFactory = _ => 512 });
        var command = new Command("run", "Send mutated requests and broken adapters to the server; exit 1 when a target is missed.")
        {
            requests, seed, concurrency, families, kinds, timeout, bound, rss,
        };
        target.AddTo(command);
        families.Validators.Add(r =>
        {
            foreach (var f in r.GetValueOrDefault<string[]>() ?? [])
            {
                if (!Families.Names.Contains(f))
                {
                    r.AddError($"unknown family '{f}'; known: {string.Join(", ", Families.Names)}");
                }
            }
        });
        command.SetAction(async (p, ct) =>
        {
            var chosen = p.GetValue(kinds) ?? [];
            var settings = new FuzzSettings
            {
                Target = target.Read(p), Requests = p.GetValue(requests), Seed = p.GetValue(seed), Concurrency = p.GetValue(concurrency),
                Families = p.GetValue(families) ?? [], AdapterKinds = chosen.Length == 0 ? null : chosen.Contains("none") ? [] : chosen,
                RequestTimeoutSeconds = p.GetValue(timeout), AdminBoundSeconds = p.GetValue(bound), MaxRssGrowthMiB = p.GetValue(rss),
                OutDir = p.GetValue(target.Out)!,
            };
            var report = await FuzzRunner.RunAsync(settings, Console.Out, ct);
            Print(report, settings.OutDir);
            return report.Passed ? 0 : 1;
        });
        return command;
    }

    public static void Print(FuzzReport report, string outDir)
    {
        Console.WriteLine($"{report.Requests} requests in {report.Seconds:0} s: {string.Join(", ", report.ByStatus.Select(kv => $"{kv.Key} x{kv.Value}"))}");
        Console.WriteLine($"4xx without an OpenAI error body: {report.Unshaped4xx}");
        foreach (var c in report.Checks)
        {
            Console.WriteLine($"{(c.Met ? "ok  " : "MISS")} {c.Name}: {c.Detail}");
        }

        foreach (var o in report.Offences.Take(20))
        {
            Console.WriteLine($"  offence: {o}");
        }

        Console.WriteLine($"report: {Path.Combine(outDir, "report.md")}");
    }

    public static Command List()
    {
        var command = new Command("list", "List the request families and the broken adapter kinds.");
        command.SetAction(_ =>
        {
            Console.WriteLine("request families: " + string.Join(", ", Families.Names));
            foreach (var k in AdapterAttack.AllKinds)
            {
                Console.WriteLine($"{k.Group,-14} {k.Name,-28} {k.Expect,-14} {k.What}");
            }
        });
        return command;
    }
}
