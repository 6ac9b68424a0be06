using InferenceHost.LoadTests.Cli;

namespace InferenceHost.LoadTests.Metrics;

/// <summary>The figures of one run, as written to the JSON results file and the Markdown report.</summary>
public sealed record RunSummary
{
    public string Name { get; init; } = "";
    public string Target { get; init; } = "";
    public string LoraMode { get; init; } = "";
    public string TrafficMode { get; init; } = "";
    public string Traffic { get; init; } = "";
    public int Adapters { get; init; }
    public string Popularity { get; init; } = "";
    public string AdapterKind { get; init; } = "";
    public DateTimeOffset StartedAt { get; init; }
    public double DurationSeconds { get; init; }
    public int RequestsPlanned { get; init; }
    public int RequestsSent { get; init; }
    public int Completed { get; init; }
    public int Failed { get; init; }
    public int Attempts { get; init; }
    public int RateLimited { get; init; }
    public SortedDictionary<string, int> ErrorsByOutcome { get; init; } = [];
    public SortedDictionary<string, string> SampleErrors { get; init; } = [];
    public SortedDictionary<string, int> RequestsByAdapter { get; init; } = [];
    public LatencySummary Ttft { get; init; } = LatencySummary.Empty;
    public LatencySummary Itl { get; init; } = LatencySummary.Empty;
    public LatencySummary Tpot { get; init; } = LatencySummary.Empty;
    public LatencySummary E2e { get; init; } = LatencySummary.Empty;
    public long OutputTokens { get; init; }
    public double RequestThroughput { get; init; }
    public double OutputTokenThroughput { get; init; }
    public double? SloTtftMs { get; init; }
    public double? SloTpotMs { get; init; }
    public double? SloE2eMs { get; init; }
    public int? GoodRequests { get; init; }
    public double? Goodput { get; init; }
    public List<MetricDelta> ServerMetrics { get; init; } = [];
    public string? ServerMetricsError { get; init; }

    /// <summary>
    /// Builds the summary from every attempt of a run. A logical request may have several attempts (429 retries);
    /// its final attempt decides whether it completed. Error counts are per attempt, so each 429 is counted.
    /// </summary>
    public static RunSummary Build(RunOptions o, IReadOnlyList<RequestResult> attempts, double durationSeconds,
        DateTimeOffset startedAt, string target)
    {
        var finals = attempts.GroupBy(a => a.Index).Select(g => g.Last()).ToList();
        var ok = finals.Where(r => r.Ok).ToList();
        var errors = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var samples = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (RequestResult a in attempts.Where(a => !a.Ok))
        {
            errors[a.Outcome] = errors.GetValueOrDefault(a.Outcome) + 1;
            if (a.Error is not null)
                samples.TryAdd(a.Outcome, a.Error);
        }
        double d = Math.Max(durationSeconds, 1e-9);
        int? good = null;
        if (o.SloTtftMs is not null || o.SloTpotMs is not null || o.SloE2eMs is not null)
            good = ok.Count(r => MeetsSlos(r, o));
        return new RunSummary
        {
            Name = o.Name,
            Target = target,
            LoraMode = o.LoraMode,
            TrafficMode = o.Mode.ToString().ToLowerInvariant(),
            Traffic = o.Mode == LoadMode.Closed ? $"concurrency {o.Concurrency}"
                : $"rate {o.RequestRate:0.###}/s burstiness {o.Burstiness:0.###}",
            Adapters = o.Adapters,
            Popularity = o.Popularity.ToString().ToLowerInvariant(),
            AdapterKind = o.AdapterKind.ToString().ToLowerInvariant(),
            StartedAt = startedAt,
            DurationSeconds = durationSeconds,
            RequestsPlanned = o.Requests,
            RequestsSent = finals.Count,
            Completed = ok.Count,
            Failed = finals.Count - ok.Count,
            Attempts = attempts.Count,
            RateLimited = attempts.Count(a => a.HttpStatus == 429),
            ErrorsByOutcome = errors,
            SampleErrors = samples,
            RequestsByAdapter = new SortedDictionary<string, int>(
                finals.GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal),
            Ttft = LatencySummary.From(ok.Select(r => r.TtftMs)),
            Itl = LatencySummary.From(ok.SelectMany(r => r.ItlMs)),
            Tpot = LatencySummary.From(ok.Where(r => r.TpotMs is not null).Select(r => r.TpotMs!.Value)),
            E2e = LatencySummary.From(ok.Select(r => r.E2eMs)),
            OutputTokens = ok.Sum(r => (long)r.OutputTokens),
            RequestThroughput = ok.Count / d,
            OutputTokenThroughput = ok.Sum(r => (double)r.OutputTokens) / d,
            SloTtftMs = o.SloTtftMs,
            SloTpotMs = o.SloTpotMs,
            SloE2eMs = o.SloE2eMs,
            GoodRequests = good,
            Goodput = good / d,
        };
    }

    public static bool MeetsSlos(RequestResult r, RunOptions o)
        => r.Ok
           && (o.SloTtftMs is not { } ttft || r.TtftMs <= ttft)
           && (o.SloTpotMs is not { } tpot || (r.TpotMs ?? 0) <= tpot)
           && (o.SloE2eMs is not { } e2e || r.E2eMs <= e2e);
}
