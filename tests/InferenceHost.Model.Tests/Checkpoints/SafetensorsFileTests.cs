using InferenceHost.Model.Checkpoints;
using static InferenceHost.Model.Tests.Checkpoints.TestFiles;

namespace InferenceHost.Model.Tests.Checkpoints;

public class SafetensorsFileTests
{
    private const string OneF32 = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    [Fact]
    public void ReadsAHandMadeFile()
    {
        using var dir = new TempDir();
        var data = new byte[12];
        BitConverter.TryWriteBytes(data.AsSpan(0), 1.5f);
        BitConverter.TryWriteBytes(data.AsSpan(4), -2f);
        BitConverter.TryWriteBytes(data.AsSpan(8), (short)7);
        var header = "{\"__metadata__\":{\"format\":\"pt\"}," + OneF32 +
                     ",\"b\":{\"dtype\":\"I16\",\"shape\":[1,1],\"data_offsets\":[8,10]},\"c\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[10,12]}}  ";
        data[10] = 200;
        data[11] = 3;
        using var file = SafetensorsFile.Open(dir.File("ok.safetensors", Raw(header, data)));
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(["a", "b", "c"], file.Tensors.Keys.Order());
        Assert.Equal(new TensorInfo("b", "I16", [1, 1], 8, 10) with { Shape = file.Tensors["b"].Shape }, file.Tensors["b"]);
        Assert.Equal([1L, 1L], file.Tensors["b"].Shape);
        using var a = file.Load("a");
        Assert.Equal([1.5f, -2f], a.data<float>().ToArray());
        using var b = file.Load("b", TorchSharp.torch.ScalarType.Float32);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, b.dtype);
        Assert.Equal(7f, b.item<float>());
        using var c = file.Load("c");
        Assert.Equal(new byte[] { 200, 3 }, c.data<byte>().ToArray());
        Assert.Equal(new byte[] { 200, 3 }, file.Bytes("c").ToArray());
    }

    [Fact]
    public void ReadWholeFollowsASymbolicLinkToAValidFile()
    {
        // A link's own size is the length of its target's name: comparing it to the bytes read refused every linked file.
        using var dir = new TempDir();
        var data = new byte[8];
        BitConverter.TryWriteBytes(data.AsSpan(0), 1.5f);
        var target = dir.File("target.safetensors", Raw("{" + OneF32 + "}", data));
        var link = System.IO.Path.Combine(dir.Path, "link.safetensors");
        File.CreateSymbolicLink(link, target);
        using var file = SafetensorsFile.ReadWhole(link, 1 << 20);
        Assert.Equal(["a"], file.Tensors.Keys);
        using var a = file.Load("a");
        Assert.Equal(1.5f, a.data<float>()[0]);
    }

    [Fact]
    public void UnknownTensorNameNamesFileAndTensor()
    {
        using var dir = new TempDir();
        var path = dir.File("ok.safetensors", Raw("{" + OneF32 + "}", new byte[8]));
        using var file = SafetensorsFile.Open(path);
        var e = Assert.Throws<CheckpointException>(() => file.Load("nope"));
        AssertMessage(e, path, "\"nope\"");
    }

    [Fact]
    public void MissingFileIsACheckpointError()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "absent.safetensors");
        var e = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        AssertMessage(e, path);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void TruncatedBeforeHeaderLength(int length)
    {
        using var dir = new TempDir();
        AssertRejected(dir, new byte[length], $"{length} bytes", "too short");
    }

    [Fact]
    public void HeaderLengthOverLimit()
    {
        using var dir = new TempDir();
        AssertRejected(dir, Raw("{}", [], declaredLength: 200_000_000), "200000000", "limit");
    }

    [Fact]
    public void HeaderLengthPastEndOfFile()
    {
        using var dir = new TempDir();
        AssertRejected(dir, Raw("{" + OneF32 + "}", new byte[8], declaredLength: 5000), "5000", "truncated");
    }

    [Fact]
    public void TruncatedDataRegion()
    {
        using var dir = new TempDir();
        AssertRejected(dir, Raw("{" + OneF32 + "}", new byte[5]), "\"a\"", "past the end");
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", "not valid JSON")]
    [InlineData("[1,2]", "not an object")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},}", "not valid JSON")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} {}", "not valid JSON")]
    [InlineData("{\"__metadata__\":{\"format\":1}," + OneF32 + "}", "__metadata__")]
    [InlineData("{\"__metadata__\":[]," + OneF32 + "}", "__metadata__")]
    [InlineData("{\"a\":{\"dtype\":\"F17\",\"shape\":[2],\"data_offsets\":[0,8]}}", "unknown dtype \"F17\"")]
    [InlineData("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "dtype")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "shape")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", "shape")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", "data_offsets")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", "end before they begin")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", "unknown field \"x\"")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "needs 12 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}", "needs 4 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", "too large")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "\"a\" twice")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "\"dtype\" twice")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"\\u0061\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "\"a\" twice")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "overlap")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "belong to no tensor")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "trailing bytes")]
    public void MalformedHeaderIsRejected(string header, string fragment)
    {
        using var dir = new TempDir();
        AssertRejected(dir, Raw(header, new byte[8]), fragment);
    }

    [Fact]
    public void InvalidUtf8HeaderIsRejected()
    {
        using var dir = new TempDir();
        var bytes = Raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]);
        bytes[10] = 0xFF; // inside the key "a"
        AssertRejected(dir, bytes, "UTF-8");
    }

    [Theory]
    [InlineData("tiny-llama", TorchSharp.torch.ScalarType.Float32, "F32")]
    [InlineData("tiny-llama-bf16", TorchSharp.torch.ScalarType.BFloat16, "BF16")]
    public void FixtureTensorsLoadWithTheirShapesAndDTypes(string fixture, TorchSharp.torch.ScalarType scalar, string dtype)
    {
        using var file = SafetensorsFile.Open(Path.Combine(Fixture(fixture), "model.safetensors"));
        Assert.NotEmpty(file.Tensors);
        foreach (var info in file.Tensors.Values)
        {
            Assert.Equal(dtype, info.DType);
            using var t = file.Load(info.Name);
            Assert.Equal(scalar, t.dtype);
            Assert.Equal(info.Shape, t.shape);
            Assert.Equal(file.Bytes(info.Name).ToArray(), t.bytes.ToArray());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100_000)]
    public void TruncatedFixtureIsRejectedNamingTheLastTensor(int cut)
    {
        using var dir = new TempDir();
        var original = File.ReadAllBytes(Path.Combine(Fixture("tiny-llama"), "model.safetensors"));
        using var whole = SafetensorsFile.Open(Path.Combine(Fixture("tiny-llama"), "model.safetensors"));
        var dataLength = whole.Tensors.Values.Max(t => t.End) - cut; // the tensors tile the data region
        var e = AssertRejected(dir, original[..^cut], "past the end");
        // The tensor it names is one the cut really reached.
        Assert.Contains(whole.Tensors.Values.Where(t => t.End > dataLength), t => e.Problem.StartsWith($"tensor \"{t.Name}\""));
    }

    [Fact]
    public void FixtureWithOneShapeEditedIsRejected()
    {
        // Same header length, one dimension changed: the byte count no longer matches the offsets.
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(Path.Combine(Fixture("tiny-llama"), "model.safetensors"));
        var text = System.Text.Encoding.Latin1.GetString(bytes, 0, 4096);
        var at = text.IndexOf("\"shape\":[32000,64]", StringComparison.Ordinal);
        Assert.True(at > 0, "the fixture's embedding shape was not found in its header");
        System.Text.Encoding.ASCII.GetBytes("\"shape\":[32000,65]").CopyTo(bytes, at);
        AssertRejected(dir, bytes, "model.embed_tokens.weight", "needs 8320000 bytes");
    }
}
