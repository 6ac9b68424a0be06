namespace InferenceHost.Tests.Shared;

/// <summary>The conformance check every golden test makes: the greedy tokens exactly, the first step's top-5 within 1e-3.</summary>
public static class GoldenAssert
{
    public const double LogitTolerance = 1e-3;

    public static void Matches(GoldenCase expected, IReadOnlyList<int> tokens, IReadOnlyList<(int Id, float Logit)> top)
    {
        Xunit.Assert.True(expected.Greedy.SequenceEqual(tokens), $"{expected}: tokens [{string.Join(", ", tokens)}] differ from golden [{string.Join(", ", expected.Greedy)}]");
        for (var i = 0; i < expected.Top5.Count; i++)
        {
            Xunit.Assert.Equal((int)expected.Top5[i][0], top[i].Id);
            var diff = Math.Abs(expected.Top5[i][1] - top[i].Logit);
            Xunit.Assert.True(diff <= LogitTolerance, $"{expected}: top-{i + 1} logit {top[i].Logit} vs golden {expected.Top5[i][1]} (|diff| {diff:g3} > {LogitTolerance})");
        }
    }
}
