namespace InferenceHost.Engine.Sampling;

/// <summary>How a sequence picks its next tokens and when it stops.</summary>
public sealed record SamplingParams
{
    /// <summary>Temperatures below this sample greedily, as vLLM does: dividing logits by them overflows float32.</summary>
    public const double GreedyBelow = 1e-5;

    /// <summary>0 (or below <see cref="GreedyBelow"/>) = greedy (argmax); otherwise logits are divided by it before sampling.</summary>
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

    /// <summary>Log-probabilities per generated token: null = none, 0 = the chosen token's only, N = also the top N.</summary>
    public int? Logprobs { get; init; }

    /// <summary>Also report the prompt tokens' log-probabilities (OpenAI's <c>echo</c> with <c>logprobs</c>).</summary>
    public bool PromptLogprobs { get; init; }

    public bool IsGreedy => Temperature < GreedyBelow;

    public void Validate()
    {
        Check(!double.IsNaN(Temperature) && Temperature is >= 0 and <= 100, "temperature", "temperature must be between 0 and 100");
        Check(!double.IsNaN(TopP) && TopP is > 0 and <= 1, "top_p", "top_p must be in (0, 1]");
        Check(TopK >= 0, "top_k", "top_k must be 0 (off) or positive");
        Check(MaxTokens >= 1, "max_tokens", "max_tokens must be at least 1");
        Check(Logprobs is null or (>= 0 and <= 20), "logprobs", "logprobs must be between 0 and 20");
        Check(!Stop.Any(string.IsNullOrEmpty), "stop", "stop strings must not be empty");
    }

    private static void Check(bool ok, string field, string message)
    {
        if (!ok)
        {
            throw new InvalidRequestException(field, message);
        }
    }
}
