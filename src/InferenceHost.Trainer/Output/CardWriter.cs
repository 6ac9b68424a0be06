using System.Text.Json;
using System.Text.Json.Serialization;
using InferenceHost.Adapters;
using InferenceHost.CommandLine;
using InferenceHost.Trainer.Evaluation;

namespace InferenceHost.Trainer.Output;

/// <summary>
/// Writes each evaluated adapter's (and full fine-tune's) evaluation card, <c>eval_results.json</c> beside its
/// files, which the server lists under the adapter in <c>/v1/models</c>: the card describes one task (the
/// first one evaluated), its metric, the system's score and the base's on the same examples, every metric
/// of that task for both, the data, the base and the date.
/// </summary>
public static class CardWriter
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static string CheckMetric(string metric) => TextScores.CardMetrics.Contains(metric, StringComparer.Ordinal)
        ? metric
        : throw new CliException($"--card-metric {metric}: not a metric (choose from {string.Join(", ", TextScores.CardMetrics)})");

    /// <summary>
    /// One card per system other than the base (<paramref name="results"/>[0]); a directory that cannot be
    /// written (read-only fixtures) is reported on <paramref name="log"/> and skipped, since the evaluation's own
    /// results are already written. Returns the cards written.
    /// </summary>
    public static List<string> Write(IReadOnlyList<SystemResult> results, EvalTask task, string metric, string baseModel, DateTimeOffset date, TextWriter log)
    {
        var written = new List<string>();
        var baseScores = results[0].Scores[task.Name].CardScores();
        foreach (var r in results.Skip(1))
        {
            var scores = r.Scores[task.Name].CardScores();
            var card = new EvaluationCard
            {
                Task = task.Name,
                Template = task.Template,
                Data = task.Data,
                Metric = metric,
                Score = scores[metric],
                BaseScore = baseScores[metric],
                Scores = scores,
                BaseScores = baseScores,
                Examples = task.Examples.Count,
                Date = date,
                BaseModel = baseModel,
            };
            var path = Path.Combine(r.Directory, EvaluationCardReader.FileName);
            try
            {
                File.WriteAllText(path, JsonSerializer.Serialize(card, Json));
                written.Add(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.WriteLine($"warning: no evaluation card for {r.Name}: {path}: {e.Message}");
            }
        }

        return written;
    }
}
