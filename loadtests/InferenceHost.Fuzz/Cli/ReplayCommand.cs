using System.CommandLine;
using InferenceHost.Fuzz.Run;
using InferenceHost.Fuzz.Send;
using InferenceHost.LoadTests.Cli;

namespace InferenceHost.Fuzz.Cli;

/// <summary><c>replay</c>: sends saved offending cases again to a running server and prints what it answers now.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("files") { Description = "Saved cases (offenders/NNNNN-family.json).", Arity = ArgumentArity.OneOrMore };
        var url = new Option<string>("--url") { Description = "The server (loopback only).", Required = true };
        var key = new Option<string?>("--admin-key") { Description = "Bearer key to send (the run's admin key is not saved)." };
        var timeout = TargetOptionSet.Positive(new Option<double>("--request-timeout") { Description = "Seconds before a case counts as a hang.", DefaultValueFactory = _ => 30 });
        var command = new Command("replay", "Send saved offending cases again; exit 1 if any still offends.") { files, url, key, timeout };
        command.SetAction(async (p, ct) =>
        {
            var target = LoopbackGuard.Validate(p.GetValue(url)!);
            var wait = TimeSpan.FromSeconds(p.GetValue(timeout));
            using var http = new HttpSender(target, p.GetValue(key) is { } k ? $"Bearer {k}" : null, wait);
            var offending = 0;
            foreach (var file in p.GetValue(files)!)
            {
                var saved = OffenderStore.Load(file);
                var now = await FuzzRunner.SendAsync(http, target, saved.Case, wait, TimeSpan.FromSeconds(2), ct);
                offending += now.Offends ? 1 : 0;
                Console.WriteLine($"{file}: {saved.Case.Family} / {saved.Case.Description}: was {saved.Outcome.Status}, now {now.Status} {now.Problem ?? now.Excerpt}");
            }

            return offending == 0 ? 0 : 1;
        });
        return command;
    }
}
