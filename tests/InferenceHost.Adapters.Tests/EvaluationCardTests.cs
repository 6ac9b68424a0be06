using InferenceHost.Model.Checkpoints;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Adapters.Tests;

/// <summary>The evaluation card beside an adapter: read when the adapter registers; a bad card is listed, never fatal.</summary>
public sealed class EvaluationCardTests : IDisposable
{
    private const string Good = SampleCards.Full;

    private readonly LlamaConfig config = LlamaConfig.Load(Path.Combine(TestFixtures.ModelDir("tiny-llama"), "config.json"));
    private readonly string temp = Directory.CreateTempSubdirectory("eval-card-tests-").FullName;

    [Fact]
    public void A_good_card_is_read_with_every_field()
    {
        var info = RegisterWithCard(Good);
        Assert.Null(info.EvaluationError);
        var card = Assert.IsType<EvaluationCard>(info.Evaluation);
        Assert.Equal(("dialogue-summary", "rouge1", 0.31, 0.12), (card.Task, card.Metric, card.Score, card.BaseScore));
        Assert.Equal("dialogue-summary#0", card.Template);
        Assert.Equal(4.2, card.Scores!["bleu"]);
        Assert.Equal(0.01, card.BaseScores!["rouge2"]);
        Assert.Equal(500, card.Examples);
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero), card.Date);
        Assert.Equal("default", card.BaseModel);
    }

    [Fact]
    public void Only_task_metric_and_score_are_required_and_a_missing_file_is_no_card()
    {
        var card = RegisterWithCard("""{"task": "t", "metric": "bleu", "score": 27.5}""").Evaluation!;
        Assert.Equal(27.5, card.Score);
        Assert.Null(card.BaseScore);
        Assert.Null(card.Scores);

        using var registry = new AdapterRegistry(config, "tiny-llama", 4, 64);
        var none = registry.Register("plain", TestFixtures.AdapterDir("tiny-llama", "lora-qv"));
        Assert.Null(none.Evaluation);
        Assert.Null(none.EvaluationError);
    }

    [Theory]
    [InlineData("{ not json", "not valid JSON")]
    [InlineData("[1, 2]", "not a JSON object")]
    [InlineData("""{"task": "t", "metric": "rouge1"}""", "'score' is missing")]
    [InlineData("""{"metric": "rouge1", "score": 0.3}""", "'task' is missing")]
    [InlineData("""{"task": "t", "metric": "rouge1", "score": "0.3"}""", "'score' must be a number")]
    [InlineData("""{"task": "t", "metric": "rouge1", "score": 31}""", "'score' is 31, outside 0..1 for rouge1")]
    [InlineData("""{"task": "t", "metric": "rouge1", "score": 0.3, "scores": {"bleu": 101}}""", "'scores.bleu' is 101, outside 0..100")]
    [InlineData("""{"task": "t", "metric": "rouge1", "score": 0.3, "score": 0.9}""", "the key \"score\" twice")]
    [InlineData("""{"task": "t", "metric": "rouge1", "score": 0.3, "base_scroe": 0.1}""", "unknown field 'base_scroe'")]
    [InlineData("""{"task": "t", "metric": "rouge1", "score": 0.3, "examples": 2.5}""", "'examples' must be a positive whole number")]
    [InlineData("""{"task": "t", "metric": "rouge1", "score": 0.3, "date": "yesterday"}""", "'date' is 'yesterday'")]
    [InlineData("""{"task": "", "metric": "rouge1", "score": 0.3}""", "'task' must be a non-empty string")]
    public void A_malformed_card_leaves_the_adapter_usable_and_says_what_is_wrong(string json, string expected)
    {
        using var registry = new AdapterRegistry(config, "tiny-llama", 4, 64);
        var info = registry.Register("qv", CopyWithCard(json));
        Assert.Null(info.Error);
        Assert.Null(info.Evaluation);
        Assert.Contains(expected, info.EvaluationError);
        Assert.StartsWith(EvaluationCardReader.FileName, info.EvaluationError);
        using var lease = registry.Acquire("qv");
        Assert.NotNull(lease);
    }

    [Fact]
    public void An_oversized_card_is_refused_without_reading_it_whole()
    {
        var info = RegisterWithCard("{\"task\": \"" + new string('x', (int)EvaluationCardReader.MaxBytes) + "\"}");
        Assert.Contains($"more than the {EvaluationCardReader.MaxBytes} allowed", info.EvaluationError);
    }

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private AdapterInfo RegisterWithCard(string json)
    {
        using var registry = new AdapterRegistry(config, "tiny-llama", 4, 64);
        return registry.Register("qv", CopyWithCard(json));
    }

    private string CopyWithCard(string json)
    {
        var dir = Path.Combine(temp, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(TestFixtures.AdapterDir("tiny-llama", "lora-qv")))
        {
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        }

        File.WriteAllText(Path.Combine(dir, EvaluationCardReader.FileName), json);
        return dir;
    }
}
