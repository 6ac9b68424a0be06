namespace InferenceHost.Tests.Shared;

/// <summary>An evaluation card (<c>eval_results.json</c>) with every field, in the trainer's shape; its numbers are made up.</summary>
public static class SampleCards
{
    public const string Full = """
        {"task": "dialogue-summary", "template": "dialogue-summary#0", "data": "test fixture card (not a measured score)",
         "metric": "rouge1", "score": 0.31, "base_score": 0.12,
         "scores": {"rouge1": 0.31, "rouge2": 0.09, "rougeL": 0.25, "rougeLsum": 0.26, "bleu": 4.2},
         "base_scores": {"rouge1": 0.12, "rouge2": 0.01, "rougeL": 0.1, "rougeLsum": 0.1, "bleu": 0.3},
         "examples": 500, "date": "2026-12-02T12:00:00Z", "base_model": "default"}
        """;
}
