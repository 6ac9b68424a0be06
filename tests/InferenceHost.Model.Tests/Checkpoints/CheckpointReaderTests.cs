using InferenceHost.Model.Checkpoints;
using TorchSharp;
using static InferenceHost.Model.Tests.Checkpoints.TestFiles;

namespace InferenceHost.Model.Tests.Checkpoints;

public class CheckpointReaderTests
{
    private static void Shard(TempDir dir, string file, params string[] names)
    {
        using var scope = torch.NewDisposeScope();
        SafetensorsWriter.Write(Path.Combine(dir.Path, file),
            names.Select((n, i) => KeyValuePair.Create(n, torch.full([2], (float)i, torch.ScalarType.Float32))));
    }

    private static string Index(TempDir dir, params (string Name, string File)[] map) =>
        dir.Text(CheckpointReader.IndexFile,
            "{\"metadata\":{\"total_size\":0},\"weight_map\":{" +
            string.Join(",", map.Select(m => $"\"{m.Name}\":\"{m.File}\"")) + "}}");

    private static CheckpointException Rejected(TempDir dir) =>
        Assert.Throws<CheckpointException>(() => CheckpointReader.Open(dir.Path).Dispose());

    [Fact]
    public void ReadsShardedCheckpoints()
    {
        using var dir = new TempDir();
        Shard(dir, "model-00001-of-00002.safetensors", "a", "b");
        Shard(dir, "model-00002-of-00002.safetensors", "c");
        Index(dir, ("a", "model-00001-of-00002.safetensors"), ("b", "model-00001-of-00002.safetensors"), ("c", "model-00002-of-00002.safetensors"));
        using var reader = CheckpointReader.Open(dir.Path);
        Assert.Equal(["a", "b", "c"], reader.Names.Order());
        Assert.EndsWith("model-00002-of-00002.safetensors", reader.FileOf("c"));
        Assert.Equal([2L], reader.Info("b").Shape);
        using var b = reader.Load("b", torch.ScalarType.BFloat16);
        Assert.Equal(torch.ScalarType.BFloat16, b.dtype);
        Assert.Equal(1f, b[0].to(torch.ScalarType.Float32).item<float>());
        reader.CheckNames(["a", "b"], ["c"]);
        var e = Assert.Throws<CheckpointException>(() => reader.Load("d"));
        AssertMessage(e, dir.Path, "\"d\"");
    }

    [Fact]
    public void CheckNamesListsMissingAndUnexpectedKeysInOneError()
    {
        using var reader = CheckpointReader.Open(Fixture("tiny-llama"));
        var expected = reader.Names.Where(n => n != "model.norm.weight").Append("lm_head.weight").ToList();
        var e = Assert.Throws<CheckpointException>(() => reader.CheckNames(expected, ["extra.weight"]));
        AssertMessage(e, Fixture("tiny-llama"), "missing keys (1): lm_head.weight", "unexpected keys (1): model.norm.weight");
    }

    [Fact]
    public void NoWeightsFile()
    {
        using var dir = new TempDir();
        AssertMessage(Rejected(dir), dir.Path, "neither model.safetensors nor model.safetensors.index.json");
    }

    [Fact]
    public void PickleCheckpointIsRefusedByName()
    {
        using var dir = new TempDir();
        dir.File("pytorch_model.bin", [0x80, 0x02]);
        AssertMessage(Rejected(dir), dir.Path, "pytorch_model.bin", "refused");
    }

    [Fact]
    public void MissingDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid());
        var e = Assert.Throws<CheckpointException>(() => CheckpointReader.Open(path));
        AssertMessage(e, path, "not found");
    }

    [Theory]
    [InlineData("{\"weight_map\":{\"a\":\"s.safetensors\"", "not valid JSON")]
    [InlineData("{\"metadata\":{}}", "weight_map")]
    [InlineData("{\"weight_map\":[]}", "weight_map")]
    [InlineData("{\"weight_map\":{}}", "empty")]
    [InlineData("{\"weight_map\":{\"a\":3}}", "\"a\"")]
    [InlineData("{\"weight_map\":{\"a\":\"../s.safetensors\"}}", "not a plain file name")]
    [InlineData("{\"weight_map\":{\"a\":\"s.safetensors\",\"a\":\"t.safetensors\"}}", "\"a\" twice")]
    public void MalformedIndex(string json, string fragment)
    {
        using var dir = new TempDir();
        Shard(dir, "s.safetensors", "a");
        var index = dir.Text(CheckpointReader.IndexFile, json);
        AssertMessage(Rejected(dir), index, fragment);
    }

    [Fact]
    public void IndexPointsToMissingShard()
    {
        using var dir = new TempDir();
        Shard(dir, "s1.safetensors", "a");
        var index = Index(dir, ("a", "s1.safetensors"), ("b", "s2.safetensors"));
        AssertMessage(Rejected(dir), index, "shard \"s2.safetensors\"", "missing");
    }

    [Fact]
    public void IndexNamesATensorItsShardLacks()
    {
        using var dir = new TempDir();
        Shard(dir, "s1.safetensors", "a");
        var index = Index(dir, ("a", "s1.safetensors"), ("b", "s1.safetensors"));
        AssertMessage(Rejected(dir), index, "\"b\" (listed in s1.safetensors)", "absent");
    }

    [Fact]
    public void TensorInTwoShards()
    {
        using var dir = new TempDir();
        Shard(dir, "s1.safetensors", "a", "b");
        Shard(dir, "s2.safetensors", "b", "c");
        var index = Index(dir, ("a", "s1.safetensors"), ("b", "s1.safetensors"), ("c", "s2.safetensors"));
        AssertMessage(Rejected(dir), index, "\"b\" in s1.safetensors and s2.safetensors");
    }

    [Fact]
    public void ShardHoldsTensorsTheIndexDoesNotList()
    {
        using var dir = new TempDir();
        Shard(dir, "s1.safetensors", "a", "stray");
        var index = Index(dir, ("a", "s1.safetensors"));
        AssertMessage(Rejected(dir), index, "\"stray\" (in s1.safetensors)", "does not list");
    }

    [Fact]
    public void BrokenShardIsNamedInTheError()
    {
        using var dir = new TempDir();
        var shard = dir.File("s1.safetensors", [1, 2, 3]);
        Index(dir, ("a", "s1.safetensors"));
        AssertMessage(Rejected(dir), shard, "too short");
    }
}
