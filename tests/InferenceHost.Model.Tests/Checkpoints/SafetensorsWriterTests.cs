using System.Buffers.Binary;
using System.Text;
using InferenceHost.Model.Checkpoints;
using TorchSharp;

namespace InferenceHost.Model.Tests.Checkpoints;

public class SafetensorsWriterTests
{
    [Theory]
    [InlineData(torch.ScalarType.Float32)]
    [InlineData(torch.ScalarType.BFloat16)]
    [InlineData(torch.ScalarType.Float16)]
    public void RoundTripIsBitExact(torch.ScalarType dtype)
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var gen = new torch.Generator(1234);
        var tensors = new Dictionary<string, torch.Tensor>
        {
            ["w"] = torch.randn([5, 7], generator: gen).to(dtype),
            ["b"] = torch.tensor(new[] { float.NaN, float.NegativeInfinity, -0f, 65504f }).to(dtype),
            ["empty"] = torch.empty([0, 3], dtype),
            ["scalar"] = torch.tensor(3.25f).to(dtype),
            ["ids"] = torch.arange(10, dtype: torch.ScalarType.Int64),
            ["mask"] = torch.tensor(new[] { true, false, true }),
        };
        var path = Path.Combine(dir.Path, "rt.safetensors");
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(tensors.Keys.Order(), file.Tensors.Keys.Order());
        foreach (var (name, expected) in tensors)
        {
            var loaded = file.Load(name);
            Assert.Equal(expected.dtype, loaded.dtype);
            Assert.Equal(expected.shape, loaded.shape);
            Assert.Equal(expected.bytes.ToArray(), loaded.bytes.ToArray());
        }
    }

    [Fact]
    public void LayoutMatchesThePythonLibrary()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var path = Path.Combine(dir.Path, "order.safetensors");
        SafetensorsWriter.Write(path, new Dictionary<string, torch.Tensor>
        {
            ["z16"] = torch.zeros(3, torch.ScalarType.Float16),
            ["b32"] = torch.zeros(1, torch.ScalarType.Float32),
            ["a32"] = torch.zeros(1, torch.ScalarType.Float32),
            ["u8"] = torch.zeros(1, torch.ScalarType.Byte),
        });

        var bytes = File.ReadAllBytes(path);
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, n);
        Assert.StartsWith("{\"a32\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b32\":", header);
        Assert.True(header.IndexOf("\"b32\"") < header.IndexOf("\"z16\"") && header.IndexOf("\"z16\"") < header.IndexOf("\"u8\""), header);
        Assert.Equal(header.TrimEnd(' ').Length, header.LastIndexOf('}') + 1);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void StreamingWriterRefusesAShortOrLongTensorAndLeavesNoFile()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "s.safetensors");
        TensorHeader[] headers = [new("x", "F32", [2, 2])];
        Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Write(path, headers, (h, s) => s.Write(new byte[15])));
        Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Write(path, headers, (h, s) => s.Write(new byte[17])));
        Assert.Empty(Directory.GetFiles(dir.Path));

        SafetensorsWriter.Write(path, headers, (h, s) => s.Write(new byte[16]));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal([2L, 2L], file.Tensors["x"].Shape);
    }

    [Fact]
    public unsafe void ChunkedCopiesMatchWholeCopies()
    {
        // Tensors over 2 GiB go through narrow views of a flat tensor; exercise that path with tiny chunks.
        using var scope = torch.NewDisposeScope();
        var source = torch.arange(1000, dtype: torch.ScalarType.Float32).reshape(10, 100);
        var expected = source.bytes.ToArray();
        var target = torch.empty([10, 100], torch.ScalarType.Float32);
        fixed (byte* p = expected)
        {
            TensorBytes.CopyInto(target, p, expected.Length, chunk: 12);
        }

        Assert.Equal(expected, target.bytes.ToArray());
        using var stream = new MemoryStream();
        TensorBytes.WriteTo(source, stream, chunk: 28);
        Assert.Equal(expected, stream.ToArray());
    }
}
