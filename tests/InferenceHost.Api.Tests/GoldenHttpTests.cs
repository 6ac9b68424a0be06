using System.Net;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Api.Tests;

/// <summary>Every golden case over HTTP (prompt text in, token ids out), alone and all at once, in each LoRA mode.</summary>
public sealed class GoldenHttpTests
{
    public static TheoryData<string, string> FixturesAndModes()
    {
        var data = new TheoryData<string, string>();
        foreach (var f in TestFixtures.Goldens.Fixtures)
        {
            foreach (var mode in new[] { "unmerged", "merged", "auto" })
            {
                data.Add(f.Model, mode);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FixturesAndModes))]
    public async Task Every_case_matches_alone_and_concurrently(string fixture, string mode)
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == fixture);
        await using var factory = new ApiFactory(fixture, mode);
        var client = await factory.ReadyAsync();

        foreach (var c in f.Cases)
        {
            await Check(client, f, c);
        }

        await Task.WhenAll(f.Cases.Select(c => Check(client, f, c)));
    }

    internal static object Request(GoldenFixture f, GoldenCase c, string? model = null) => new
    {
        model = model ?? c.Adapter ?? f.Model,
        prompt = f.Prompts[c.Prompt].Text,
        temperature = 0,
        max_tokens = f.GreedyTokens,
        ignore_eos = true,
        return_token_ids = true,
    };

    internal static async Task Check(HttpClient client, GoldenFixture f, GoldenCase c, string? model = null)
    {
        var (status, body) = await client.PostJsonAsync("/v1/completions", Request(f, c, model));
        Assert.True(status == HttpStatusCode.OK, $"{c}: {status} {body}");
        Assert.Equal(f.Prompts[c.Prompt].Ids, body.GetProperty("prompt_token_ids").Ints());
        var choice = body.GetProperty("choices")[0];
        Assert.True(c.Greedy.SequenceEqual(choice.GetProperty("token_ids").Ints()), $"{c}: tokens [{string.Join(", ", choice.GetProperty("token_ids").Ints())}] differ from golden [{string.Join(", ", c.Greedy)}]");
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(f.GreedyTokens, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }
}
