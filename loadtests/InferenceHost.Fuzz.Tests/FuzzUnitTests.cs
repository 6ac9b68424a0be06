using System.Text;
using InferenceHost.Fuzz.Adapters;
using InferenceHost.Fuzz.Cases;
using InferenceHost.Fuzz.Send;
using InferenceHost.Tests.Shared;

namespace InferenceHost.Fuzz.Tests;

/// <summary>The fuzzer's parts without a server: seeded cases, raw bodies, the SSE check, the broken adapter builders.</summary>
public sealed class FuzzUnitTests
{
    private static readonly FuzzContext Context = new("tiny-llama", ["lora-qv", "lora-all"], ["soft-8"], "/tmp/root", "/tmp/root/valid-lora");

    private static string Text(FuzzCase c) => Convert.ToHexString(c.Raw ?? c.Body) + c.Path + c.Method + c.ContentType;

    [Fact]
    public void The_same_seed_gives_the_same_cases_and_another_seed_others()
    {
        var a = Families.Generator(7, 200, Context, "Bearer k").Select(Text).ToList();
        var b = Families.Generator(7, 200, Context, "Bearer k").Select(Text).ToList();
        var c = Families.Generator(8, 200, Context, "Bearer k").Select(Text).ToList();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Every_family_is_drawn_and_a_filter_keeps_to_its_families()
    {
        var all = Families.Generator(1, 2000, Context, "Bearer k").Select(x => x.Family).ToHashSet();
        Assert.Equal(Families.Names.Order(), all.Order());
        Assert.All(Families.Generator(1, 50, Context, "Bearer k", ["surrogates", "http-framing"]), x => Assert.Contains(x.Family, new[] { "surrogates", "http-framing" }));
    }

    [Fact]
    public void A_raw_body_splices_literals_bytes_and_duplicate_keys()
    {
        var body = new RawBody(new System.Text.Json.Nodes.JsonObject { ["prompt"] = "hi", ["max_tokens"] = 1 });
        body.Set("max_tokens", "1e999").SetBytes("prompt", [(byte)'"', 0xFF, (byte)'"']).Prefix("\"prompt\": 1");
        var bytes = body.Bytes();
        Assert.Equal("{\"prompt\": 1,\"prompt\":\"\uFFFD\",\"max_tokens\":1e999}", Encoding.UTF8.GetString(bytes));
        Assert.Contains((byte)0xFF, bytes);
    }

    [Theory]
    [InlineData("data: {\"a\":1}\n\ndata: [DONE]\n\n", null)]
    [InlineData("data: {\"a\":1}\n\ndata: {\"error\":{\"message\":\"x\"}}\n\ndata: [DONE]\n\n", null)]
    [InlineData("data: {\"a\":1}\n\n", "cut")]
    [InlineData("data: {\"a\":1}\n\ndata: [DO", "cut")]
    [InlineData("", "cut")]
    [InlineData("data: {\"a\":\n\ndata: [DONE]\n\n", "bad")]
    [InlineData("event: x\n\ndata: [DONE]\n\n", "bad")]
    [InlineData("data: [DONE]\n\ndata: {}\n\ndata: [DONE]\n\n", "bad")]
    public void The_stream_check_tells_whole_cut_and_malformed_streams_apart(string body, string? expected)
    {
        var problem = SseCheck.Problem(body);
        Assert.Equal(expected, problem is null ? null : problem.Value.Cut ? "cut" : "bad");
    }

    [Fact]
    public void The_safetensors_writer_reproduces_the_fixture_tensors()
    {
        var path = Path.Combine(TestFixtures.AdapterDir("tiny-llama", "lora-qv"), "adapter_model.safetensors");
        var tensors = SafetensorsBytes.Read(path);
        var dir = Directory.CreateTempSubdirectory("fuzz-st-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "x.safetensors"), SafetensorsBytes.Write(tensors));
            var again = SafetensorsBytes.Read(Path.Combine(dir, "x.safetensors"));
            Assert.Equal(tensors.Select(t => (t.Name, t.DType, string.Join(',', t.Shape), Convert.ToHexString(t.Data))),
                again.Select(t => (t.Name, t.DType, string.Join(',', t.Shape), Convert.ToHexString(t.Data))));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Every_broken_adapter_kind_builds_a_distinct_directory()
    {
        var root = Directory.CreateTempSubdirectory("fuzz-kinds-").FullName;
        var keep = new List<IDisposable>();
        try
        {
            var source = new AdapterSource(TestFixtures.AdapterDir("tiny-llama", "lora-qv"));
            Assert.Equal(AdapterAttack.AllKinds.Count, AdapterAttack.AllKinds.Select(k => k.Name).Distinct().Count());
            foreach (var kind in AdapterAttack.AllKinds)
            {
                var dir = Directory.CreateDirectory(Path.Combine(root, kind.Name)).FullName;
                var path = kind.Build(new AdapterWorkspace(root, dir, source, keep));
                Assert.True(kind.Group == "paths" || System.IO.Directory.EnumerateFileSystemEntries(dir).Any(), $"{kind.Name} wrote nothing");
                Assert.True(kind.Group == "paths" || path.StartsWith(root, StringComparison.Ordinal), $"{kind.Name} sends {path}");
            }
        }
        finally
        {
            keep.ForEach(k => k.Dispose());
            Directory.Delete(root, recursive: true);
        }
    }
}
