namespace InferenceHost.LoadTests.Cli;

public enum LoadMode { Closed, Open }

public enum Popularity { Single, Uniform, Skewed, Distinct }

/// <summary>What each request asks for: a LoRA adapter (as the model name), a soft prompt, or both at once.</summary>
public enum AdapterKind { Lora, Soft, LoraSoft }

public enum PromptSource { Random, DialogSum }

/// <summary>Everything one load run needs; built from an <see cref="OptionBag"/> (command line or scenario entry).</summary>
public sealed record RunOptions
{
    public const string DefaultServerCommand =
        "dotnet src/InferenceHost/bin/Release/net10.0/InferenceHost.dll --Model:Path={model} " +
        "--Adapters:Directory={adapters} --Lora:Mode={mode} --urls http://127.0.0.1:{port}";

    public string Name { get; init; } = "run";
    public Uri? Url { get; init; }
    public bool StartServer { get; init; }
    public string ServerCommand { get; init; } = DefaultServerCommand;
    public string ModelDir { get; init; } = ".models/tinyllama-synth";
    public string AdaptersDir { get; init; } = ".models/adapters";
    public string LoraMode { get; init; } = "auto";
    public int Port { get; init; }
    public double ReadyTimeoutSeconds { get; init; } = 120;
    public IReadOnlyList<string> PrepareCommands { get; init; } = [];

    public LoadMode Mode { get; init; } = LoadMode.Closed;
    public int Concurrency { get; init; } = 8;
    public double RequestRate { get; init; } = double.PositiveInfinity;
    public double Burstiness { get; init; } = 1.0;
    public int MaxConcurrency { get; init; }
    public int Requests { get; init; } = 200;
    public double DurationSeconds { get; init; } = 60;
    public int WarmupRequests { get; init; }

    public int Adapters { get; init; } = 1;
    public IReadOnlyList<string> AdapterNames { get; init; } = [];
    public string AdapterPrefix { get; init; } = "adapter-";
    public Popularity Popularity { get; init; } = Popularity.Uniform;
    public double ZipfExponent { get; init; } = 1.0;
    public double BaseFraction { get; init; }
    public string BaseModel { get; init; } = "base";
    public AdapterKind AdapterKind { get; init; } = AdapterKind.Lora;
    public int SoftPrompts { get; init; }
    public IReadOnlyList<string> SoftNames { get; init; } = [];
    public string SoftPrefix { get; init; } = "soft-";

    public PromptSource PromptSource { get; init; } = PromptSource.Random;
    public (int Min, int Max) PromptLen { get; init; } = (128, 128);
    public (int Min, int Max) OutputLen { get; init; } = (64, 64);
    public string Dataset { get; init; } = "../shared/data/dialogsum/validation.jsonl";
    public int MaxPromptChars { get; init; } = 2000;
    public bool IgnoreEos { get; init; } = true;
    public int Seed { get; init; } = 1;

    public double? SloTtftMs { get; init; }
    public double? SloTpotMs { get; init; }
    public double? SloE2eMs { get; init; }

    public bool HonorRetryAfter { get; init; }
    public int MaxRetries { get; init; } = 3;
    public double MaxRetryWaitSeconds { get; init; } = 5;
    public double RequestTimeoutSeconds { get; init; } = 300;
    public double DrainTimeoutSeconds { get; init; } = 30;

    public bool ScrapeMetrics { get; init; } = true;
    public IReadOnlyList<string> MetricsFilter { get; init; } = ["batch_size", "merged_switch", "mode", "queue"];

    public string OutDir { get; init; } = "results";
    public bool Plots { get; init; } = true;

    /// <summary>The model names requests pick from (LoRA adapters, in popularity order).</summary>
    public IReadOnlyList<string> LoraNames => Names(AdapterNames, AdapterPrefix, Adapters);

    public IReadOnlyList<string> SoftPromptNames => Names(SoftNames, SoftPrefix, SoftPrompts > 0 ? SoftPrompts : Adapters);

    private static IReadOnlyList<string> Names(IReadOnlyList<string> given, string prefix, int count)
        => given.Count > 0 ? given : Enumerable.Range(0, count).Select(i => prefix + i).ToList();

    public static RunOptions Parse(OptionBag o, bool requireTarget = true)
    {
        var r = new RunOptions
        {
            Name = o.GetString("name", "run"),
            StartServer = o.GetBool("start-server"),
            ServerCommand = o.GetString("server-cmd", DefaultServerCommand),
            ModelDir = o.GetString("model-dir", ".models/tinyllama-synth"),
            AdaptersDir = o.GetString("adapters-dir", ".models/adapters"),
            LoraMode = o.GetString("lora-mode", "auto"),
            Port = o.GetInt("port", 0, 0, 65535),
            ReadyTimeoutSeconds = o.GetDouble("ready-timeout", 120, 1),
            PrepareCommands = o.GetString("prepare-cmd")?.Split(";;", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
            Mode = o.GetChoice("mode", LoadMode.Closed),
            Concurrency = o.GetInt("concurrency", 8, 1, 4096),
            RequestRate = ParseRate(o.GetString("request-rate")),
            Burstiness = o.GetDouble("burstiness", 1.0, 1e-3, 1e3),
            MaxConcurrency = o.GetInt("max-concurrency", 0, 0, 4096),
            Requests = o.GetInt("requests", 200, 1, 10_000_000),
            DurationSeconds = o.GetDouble("duration", 60, 0.1, 86_400),
            WarmupRequests = o.GetInt("warmup", 0, 0, 100_000),
            Adapters = o.GetInt("adapters", 1, 0, 100_000),
            AdapterNames = o.GetList("adapter-names"),
            AdapterPrefix = o.GetString("adapter-prefix", "adapter-"),
            Popularity = o.GetChoice("popularity", Popularity.Uniform),
            ZipfExponent = o.GetDouble("zipf-exponent", 1.0, 0, 10),
            BaseFraction = o.GetDouble("base-fraction", 0, 0, 1),
            BaseModel = o.GetString("base-model", "base"),
            AdapterKind = o.GetChoice("adapter-kind", AdapterKind.Lora),
            SoftPrompts = o.GetInt("soft-prompts", 0, 0, 100_000),
            SoftNames = o.GetList("soft-names"),
            SoftPrefix = o.GetString("soft-prefix", "soft-"),
            PromptSource = o.GetChoice("prompts", PromptSource.Random),
            PromptLen = o.GetRange("prompt-len", 128),
            OutputLen = o.GetRange("output-len", 64),
            Dataset = o.GetString("dataset", "../shared/data/dialogsum/validation.jsonl"),
            MaxPromptChars = o.GetInt("max-prompt-chars", 2000, 16),
            IgnoreEos = o.GetBool("ignore-eos", true),
            Seed = o.GetInt("seed", 1),
            SloTtftMs = o.GetOptionalDouble("slo-ttft-ms"),
            SloTpotMs = o.GetOptionalDouble("slo-tpot-ms"),
            SloE2eMs = o.GetOptionalDouble("slo-e2e-ms"),
            HonorRetryAfter = o.GetBool("honor-retry-after"),
            MaxRetries = o.GetInt("max-retries", 3, 0, 100),
            MaxRetryWaitSeconds = o.GetDouble("max-retry-wait", 5, 0, 600),
            RequestTimeoutSeconds = o.GetDouble("request-timeout", 300, 0.1, 3600),
            DrainTimeoutSeconds = o.GetDouble("drain-timeout", 30, 0, 3600),
            ScrapeMetrics = o.GetBool("scrape-metrics", true),
            OutDir = o.GetString("out", "results"),
            Plots = o.GetBool("plots", true),
        };
        if (o.Has("metrics-filter"))
            r = r with { MetricsFilter = o.GetList("metrics-filter") };
        string? url = o.GetString("url");
        if (url is not null)
            r = r with { Url = LoopbackGuard.Validate(url) };
        return r.Validate(requireTarget);
    }

    private static double ParseRate(string? raw)
    {
        if (raw is null || raw.Equals("inf", StringComparison.OrdinalIgnoreCase))
            return double.PositiveInfinity;
        if (!double.TryParse(raw, System.Globalization.CultureInfo.InvariantCulture, out double v) || v <= 0)
            throw new OptionException($"--request-rate '{raw}' must be a positive number of requests/s or 'inf'.");
        return v;
    }

    private RunOptions Validate(bool requireTarget)
    {
        if (requireTarget && Url is null && !StartServer)
            throw new OptionException("Give a target: --url http://127.0.0.1:PORT, or --start-server.");
        if (Url is not null && StartServer)
            throw new OptionException("Give either --url or --start-server, not both.");
        bool needsLora = AdapterKind != AdapterKind.Soft && BaseFraction < 1;
        if (needsLora && LoraNames.Count == 0)
            throw new OptionException("--adapters must be at least 1 (or give --adapter-names, or --base-fraction 1).");
        if (AdapterKind != AdapterKind.Lora && SoftPromptNames.Count == 0)
            throw new OptionException("--adapter-kind soft/lora-soft needs --soft-prompts N (or --soft-names).");
        if (Mode == LoadMode.Open && double.IsInfinity(RequestRate) && Burstiness != 1.0)
            throw new OptionException("--burstiness only applies with a finite --request-rate.");
        return this;
    }
}
