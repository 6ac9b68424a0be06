using InferenceHost.Engine.Generation;
using InferenceHost.Engine.Sampling;
using static TorchSharp.torch;

namespace InferenceHost.Engine.Tests;

public sealed class SamplingTests
{
    private static Tensor Logits(params float[] values) => tensor(values);

    [Fact]
    public void Temperature_zero_is_argmax()
    {
        using var s = new Sampler(new SamplingParams { Temperature = 0 });
        Assert.Equal(2, s.Sample(Logits(1, 3, 5, 4)));
    }

    [Fact]
    public void The_same_seed_gives_the_same_draws_and_another_seed_other_draws()
    {
        var logits = Logits(Enumerable.Range(0, 50).Select(i => (float)Math.Sin(i)).ToArray());
        int[] Draws(long seed)
        {
            using var s = new Sampler(new SamplingParams { Temperature = 1.0, Seed = seed });
            return Enumerable.Range(0, 40).Select(_ => s.Sample(logits)).ToArray();
        }

        Assert.Equal(Draws(7), Draws(7));
        Assert.NotEqual(Draws(7), Draws(8));
    }

    [Fact]
    public void Top_k_only_draws_the_k_most_likely()
    {
        using var s = new Sampler(new SamplingParams { Temperature = 5.0, TopK = 2, Seed = 1 });
        var seen = Enumerable.Range(0, 300).Select(_ => s.Sample(Logits(0, 1, 4, 3.9f, 0.5f))).ToHashSet();
        Assert.Equal(new HashSet<int> { 2, 3 }, seen);
    }

    [Fact]
    public void Top_p_keeps_the_smallest_set_reaching_p()
    {
        // probabilities ~ 0.64, 0.24, 0.09, 0.03: top_p 0.8 keeps the first two only
        var logits = Logits(3, 2, 1, 0);
        using var s = new Sampler(new SamplingParams { Temperature = 1.0, TopP = 0.8, Seed = 3 });
        var seen = Enumerable.Range(0, 500).Select(_ => s.Sample(logits)).ToHashSet();
        Assert.Equal(new HashSet<int> { 0, 1 }, seen);
    }

    [Theory]
    [InlineData(-1.0, 1.0, 0, 16, "temperature")]
    [InlineData(1.0, 0.0, 0, 16, "top_p")]
    [InlineData(1.0, 1.0, -2, 16, "top_k")]
    [InlineData(1.0, 1.0, 0, 0, "max_tokens")]
    public void Bad_parameters_name_the_field(double temperature, double topP, int topK, int maxTokens, string field)
    {
        var e = Assert.Throws<InvalidRequestException>(() => new SamplingParams { Temperature = temperature, TopP = topP, TopK = topK, MaxTokens = maxTokens }.Validate());
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void Stop_strings_are_cut_and_never_partly_shown()
    {
        var m = new StopStringMatcher(["</end>"]);
        Assert.Equal("Hello ", m.Push("Hello </"));   // "</" might start the stop string: held back
        Assert.Equal(string.Empty, m.Push("en"));
        Assert.Equal(string.Empty, m.Push("d> world")); // the stop string completes: nothing of it, nothing after
        Assert.True(m.Stopped);
    }

    [Fact]
    public void Stop_string_split_across_pieces_stops_with_the_text_before_it()
    {
        var m = new StopStringMatcher(["STOP"]);
        var shown = m.Push("abc ST") + m.Push("O") + m.Push("P and more");
        Assert.True(m.Stopped);
        Assert.Equal("abc ", shown);
        Assert.Equal(string.Empty, m.Flush());
    }

    [Fact]
    public void Held_back_text_that_was_not_a_stop_string_comes_out()
    {
        var m = new StopStringMatcher(["STOP"]);
        var shown = m.Push("abc ST") + m.Push("ATE") + m.Flush();
        Assert.False(m.Stopped);
        Assert.Equal("abc STATE", shown);
    }
}
