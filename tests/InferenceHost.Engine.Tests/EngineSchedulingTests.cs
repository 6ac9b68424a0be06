using InferenceHost.Adapters;
using InferenceHost.Engine.Generation;
using InferenceHost.Engine.Sampling;
using InferenceHost.Model;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Engine.Tests;

/// <summary>
/// Continuous batching under pressure: few rows, short merged turns, many adapters at once. Every wait
/// has a timeout, so a scheduling deadlock fails the test instead of hanging the run.
/// </summary>
public sealed class EngineSchedulingTests : IClassFixture<FixtureModels>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly FixtureModels models;

    public EngineSchedulingTests(FixtureModels models) => this.models = models;

    [Theory]
    [InlineData(LoraMode.Unmerged)]
    [InlineData(LoraMode.Merged)]
    [InlineData(LoraMode.Auto)]
    public async Task Many_requests_over_few_rows_all_finish_with_the_golden_tokens(LoraMode mode)
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == "tiny-llama");
        using var engine = Engine(mode, rows: 3, slots: 2, turn: TimeSpan.FromMilliseconds(1));
        var cases = Enumerable.Range(0, 3).SelectMany(_ => f.Cases).ToList(); // every case three times
        var handles = cases.Select(c => engine.Submit(new GenerationRequest
        {
            PromptIds = f.Prompts[c.Prompt].Ids,
            Sampling = new SamplingParams { Temperature = 0, MaxTokens = f.GreedyTokens, IgnoreEos = true },
            Adapters = c.Adapter is null ? [] : [new AdapterRequest(c.Adapter)],
        })).ToList();
        var results = await Task.WhenAll(handles.Select(h => h.Completion)).WaitAsync(Timeout);
        for (var i = 0; i < cases.Count; i++)
        {
            Assert.True(cases[i].Greedy.SequenceEqual(results[i].TokenIds), $"{cases[i]} (request {i}) gave other tokens");
        }

        Assert.All(engine.SlotSnapshot(), s => Assert.Equal(0, s.Pins));
    }

    [Fact]
    public async Task Auto_mode_switches_to_merged_for_one_dominant_adapter_and_back_when_traffic_mixes()
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == "tiny-llama");
        using var engine = Engine(LoraMode.Auto, rows: 4, slots: 4, turn: TimeSpan.FromMilliseconds(50));
        var qv = f.Cases.Where(c => c.Adapter == "lora-qv").ToList();
        for (var round = 0; round < 2; round++)
        {
            foreach (var c in qv)
            {
                await Run(engine, f, c);
            }
        }

        Assert.Equal("merged", engine.Stats.Mode);
        var mixed = f.Cases.Where(c => c.Adapter is not null and not "lora-qv").ToList();
        foreach (var c in mixed)
        {
            await Run(engine, f, c);
        }

        Assert.Equal("unmerged", engine.Stats.Mode);
        var history = engine.ModeHistory;
        Assert.Contains(history, h => h.To == "merged" && h.Reason.Contains("lora-qv"));
        Assert.Contains(history, h => h.To == "unmerged" && h.Reason.Contains("(< 60 %)"));
    }

    [Fact]
    public async Task Auto_mode_leaves_merged_once_the_requests_in_the_engine_mix_though_recent_submissions_do_not()
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == "tiny-llama");
        var policy = new AutoModePolicy { Window = 64, MinSamples = 4, MinDwell = TimeSpan.Zero };
        using var engine = Engine(LoraMode.Auto, rows: 8, slots: 4, turn: TimeSpan.FromMilliseconds(50), policy);
        var qv = f.Cases.Where(c => c.Adapter == "lora-qv").ToList();
        for (var submitted = 0; submitted < 16;)
        {
            foreach (var c in qv)
            {
                await Run(engine, f, c);
                submitted++;
            }
        }

        Assert.Equal("merged", engine.Stats.Mode);

        // At most 8 mixed requests after ≥ 16 of lora-qv: the window still gives lora-qv ≥ 60 %, so only
        // the look at the requests in the engine can see that merged mode now serves a minority.
        var mixed = f.Cases.Where(c => c.Adapter is not null and not "lora-qv")
            .GroupBy(c => c.Adapter).SelectMany(g => g.Select((c, i) => (c, i))).OrderBy(x => x.i).Select(x => x.c) // round robin over adapters
            .Take(8).ToList();
        Assert.True(mixed.Select(c => c.Adapter).Distinct().Count() >= 2 && mixed.Count >= 4, "the fixture needs mixed cases");
        await Task.WhenAll(mixed.Select(c => Run(engine, f, c)));

        Assert.Contains(engine.ModeHistory, h => h.To == "unmerged" && h.Reason.Contains("requests in the engine"));
    }

    [Fact]
    public async Task A_cancelled_request_frees_its_row_and_others_finish()
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == "tiny-llama");
        using var engine = Engine(LoraMode.Unmerged, rows: 1, slots: 1, turn: TimeSpan.FromMilliseconds(1));
        using var cts = new CancellationTokenSource();
        var longOne = engine.Submit(new GenerationRequest
        {
            PromptIds = f.Prompts[0].Ids,
            Sampling = new SamplingParams { Temperature = 0, MaxTokens = 200, IgnoreEos = true },
            Cancellation = cts.Token,
        });
        await longOne.Tokens.WaitToReadAsync().AsTask().WaitAsync(Timeout); // it is running
        var next = engine.Submit(new GenerationRequest { PromptIds = f.Prompts[1].Ids, Sampling = new SamplingParams { Temperature = 0, MaxTokens = 4 } });
        cts.Cancel();
        var cancelled = await longOne.Completion.WaitAsync(Timeout);
        Assert.Equal(FinishReason.Cancelled, cancelled.Finish);
        Assert.True(cancelled.TokenIds.Count < 200);
        Assert.Equal(4, (await next.Completion.WaitAsync(Timeout)).TokenIds.Count);
    }

    [Fact]
    public void A_full_queue_refuses_and_too_long_prompts_are_rejected_naming_the_field()
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == "tiny-llama");
        using var engine = new InferenceEngine(models.Get("tiny-llama"), new EngineOptions { MaxBatchSize = 1, MaxQueuedRequests = 1 }, Registry("tiny-llama"));
        var tooLong = Assert.Throws<InvalidRequestException>(() => engine.Submit(new GenerationRequest
        {
            PromptIds = f.Prompts[0].Ids,
            Sampling = new SamplingParams { MaxTokens = 10_000 },
        }));
        Assert.Equal("max_tokens", tooLong.Field);
        Assert.Throws<UnknownAdapterException>(() => engine.Submit(new GenerationRequest
        {
            PromptIds = f.Prompts[0].Ids,
            Sampling = new SamplingParams(),
            Adapters = [new AdapterRequest("nope")],
        }));

        var refused = 0;
        for (var i = 0; i < 20; i++)
        {
            try
            {
                engine.Submit(new GenerationRequest { PromptIds = f.Prompts[0].Ids, Sampling = new SamplingParams { MaxTokens = 50, IgnoreEos = true } });
            }
            catch (QueueFullException)
            {
                refused++;
            }
        }

        Assert.True(refused > 0, "a queue of one never filled up");
    }

    [Fact]
    public async Task Live_tensor_count_does_not_grow_with_steps()
    {
        var f = TestFixtures.Goldens.Fixtures.Single(x => x.Model == "tiny-llama");
        using var engine = Engine(LoraMode.Unmerged, rows: 4, slots: 4, turn: TimeSpan.FromMilliseconds(1));
        await Task.WhenAll(f.Cases.Select(c => Run(engine, f, c)));
        var before = await Idle(engine);
        await Task.WhenAll(f.Cases.Select(c => Run(engine, f, c)));
        await Task.WhenAll(f.Cases.Select(c => Run(engine, f, c)));
        var after = await Idle(engine);
        Assert.True(after - before < 50, $"live tensors grew from {before} to {after} over {2 * f.Cases.Count} more requests");
    }

    private static async Task<long> Idle(InferenceEngine engine)
    {
        for (var i = 0; i < 500 && (engine.Stats.Running > 0 || engine.Stats.QueueDepth > 0); i++)
        {
            await Task.Delay(10);
        }

        await Task.Delay(50); // one more loop iteration publishes the gauges
        return engine.Stats.LiveTensors;
    }

    private static async Task Run(InferenceEngine engine, GoldenFixture f, GoldenCase c)
    {
        var r = await engine.Submit(new GenerationRequest
        {
            PromptIds = f.Prompts[c.Prompt].Ids,
            Sampling = new SamplingParams { Temperature = 0, MaxTokens = f.GreedyTokens, IgnoreEos = true },
            Adapters = c.Adapter is null ? [] : [new AdapterRequest(c.Adapter)],
        }).Completion.WaitAsync(Timeout);
        Assert.True(c.Greedy.SequenceEqual(r.TokenIds), $"{c}: other tokens");
    }

    private InferenceEngine Engine(LoraMode mode, int rows, int slots, TimeSpan turn, AutoModePolicy? policy = null) =>
        new(models.Get("tiny-llama"), new EngineOptions
        {
            Mode = mode,
            MaxBatchSize = rows,
            MaxLoraSlots = slots,
            MergedTurn = turn,
            Auto = policy ?? new AutoModePolicy { Window = 8, MinSamples = 4, MinDwell = TimeSpan.Zero },
        }, Registry("tiny-llama"));

    private static AdapterRegistry Registry(string fixture)
    {
        var model = ModelLoader.Load(TestFixtures.ModelDir(fixture));
        var registry = new AdapterRegistry(model.Config, model.Name, 16, 64);
        model.Dispose();
        Assert.Empty(registry.Discover(Path.Combine(TestFixtures.ModelDir(fixture), "adapters")));
        return registry;
    }
}
