using System.CommandLine;
using InferenceHost.Fuzz.Target;
using InferenceHost.LoadTests.Cli;

namespace InferenceHost.Fuzz.Cli;

/// <summary>The options that say which server to attack, added to each command that needs one.</summary>
internal sealed class TargetOptionSet
{
    public readonly Option<string?> Url = new("--url") { Description = "A running server on loopback to attack instead of starting one (127.0.0.0/8, localhost or ::1 only)." };
    public readonly Option<string?> AdminKey = new("--admin-key") { Description = "With --url: the server's admin key (Auth:AdminKeys), sent on every route." };
    public readonly Option<string?> AdapterRoot = new("--adapter-root") { Description = "With --url: a writable directory inside the server's Adapters:AllowedRoots, for the broken adapters." };
    public readonly Option<int?> Pid = new("--pid") { Description = "With --url: the server's process id, for the liveness and memory checks." };
    public readonly Option<string?> HostDll = new("--host-dll") { Description = "The built server to start (default: src/InferenceHost/bin/Release, else Debug, /net10.0/InferenceHost.dll)." };
    public readonly Option<string> Model = new("--model") { Description = "Model directory the started server serves; its adapters/ folder is loaded at start.", DefaultValueFactory = _ => "../shared/fixtures/tiny-llama" };
    public readonly Option<string> LoraMode = new("--lora-mode") { Description = "Lora:Mode of the started server.", DefaultValueFactory = _ => "unmerged" };
    public readonly Option<double> ReadyTimeout = new("--ready-timeout") { Description = "Seconds to wait for the started server's /health/ready.", DefaultValueFactory = _ => 120 };
    public readonly Option<string[]> ServerArg = new("--server-arg") { Description = "A setting for the started server, e.g. --server-arg Engine:MaxBatchSize=8 (repeatable).", AllowMultipleArgumentsPerToken = false };
    public readonly Option<string> Out = new("--out") { Description = "Output folder: report.json, report.md, offenders/, server.log, adapter-root/.", DefaultValueFactory = _ => "results/fuzz" };

    public TargetOptionSet()
    {
        LoraMode.AcceptOnlyFromAmong("unmerged", "merged", "auto");
        Url.Validators.Add(r =>
        {
            try
            {
                LoopbackGuard.Validate(r.GetValueOrDefault<string?>() ?? "http://127.0.0.1/");
            }
            catch (OptionException e)
            {
                r.AddError(e.Message);
            }
        });
        ReadyTimeout.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() <= 0)
            {
                r.AddError("--ready-timeout must be positive");
            }
        });
    }

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Url, AdminKey, AdapterRoot, Pid, HostDll, Model, LoraMode, ReadyTimeout, ServerArg, Out })
        {
            command.Options.Add(o);
        }
    }

    public TargetOptions Read(ParseResult p) => new()
    {
        Url = p.GetValue(Url) is { } u ? LoopbackGuard.Validate(u) : null,
        AdminKey = p.GetValue(AdminKey),
        AdapterRoot = p.GetValue(AdapterRoot),
        Pid = p.GetValue(Pid),
        HostDll = p.GetValue(HostDll),
        ModelDir = p.GetValue(Model)!,
        LoraMode = p.GetValue(LoraMode)!,
        ReadyTimeoutSeconds = p.GetValue(ReadyTimeout),
        ServerArgs = (p.GetValue(ServerArg) ?? []).Select(a => a.StartsWith("--", StringComparison.Ordinal) ? a : "--" + a).ToArray(),
    };

    /// <summary>A positive-integer check for an option.</summary>
    public static Option<int> AtLeast(Option<int> option, int min)
    {
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < min)
            {
                r.AddError($"{option.Name} must be at least {min}");
            }
        });
        return option;
    }

    public static Option<double> Positive(Option<double> option)
    {
        option.Validators.Add(r =>
        {
            if (!(r.GetValueOrDefault<double>() > 0))
            {
                r.AddError($"{option.Name} must be positive");
            }
        });
        return option;
    }
}
