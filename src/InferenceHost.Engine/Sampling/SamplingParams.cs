namespace InferenceHost.Engine.Sampling;

/// <summary>How a sequence picks its next tokens and when it stops.</summary>
public sealed record SamplingParams
{
    /// <summary>0 = greedy (argmax); otherwise logits are divided by it before sampling.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Nucleus sampling: keep the smallest set of tokens whose probability reaches this (1 = off).</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Keep only the k most likely tokens (0 = off).</summary>
    public int TopK { get; init; }

    /// <summary>Seed for this sequence's random generator: the same seed gives the same output.</summary>
    public long? Seed { get; init; }

    public int MaxTokens { get; init; } = 16;

    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Keep generating past EOS (benchmarks force the full output length this way).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Top-N log-probabilities to report per generated token (0 = none).</summary>
    public int Logprobs { get; init; }

    public void Validate()
    {
        if (double.IsNaN(Temperature) || Temperature < 0 || Temperature > 100)
        {
            throw new ArgumentException("temperature must be between 0 and 100", "temperature");
        }

        if (double.IsNaN(TopP) || TopP <= 0 || TopP > 1)
        {
            throw new ArgumentException("top_p must be in (0, 1]", "top_p");
        }

        if (TopK < 0)
        {
            throw new ArgumentException("top_k must be 0 (off) or positive", "top_k");
        }

        if (MaxTokens < 1)
        {
            throw new ArgumentException("max_tokens must be at least 1", "max_tokens");
        }

        if (Logprobs is < 0 or > 20)
        {
            throw new ArgumentException("logprobs must be between 0 and 20", "logprobs");
        }

        if (Stop.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("stop strings must not be empty", "stop");
        }
    }
}
