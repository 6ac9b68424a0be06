using InferenceHost.CommandLine;
using InferenceHost.Model;
using InferenceHost.Tests.Shared;
using static TorchSharp.torch;

namespace InferenceHost.Trainer.Tests;

[Collection(nameof(TorchGlobalState))]
public sealed class ConvertTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("trainer-convert-").FullName;

    [Fact]
    public void Convert_to_bfloat16_halves_the_weights_and_holds_what_loading_as_bfloat16_holds()
    {
        var source = TestFixtures.ModelDir("tiny-llama");
        var outDir = Path.Combine(temp, "bf16");
        Assert.Equal(0, ConvertCommand.Run(TrainerVerbs.Parse("convert", ["--model", source, "--out", outDir]), TextWriter.Null));

        Assert.Contains("\"torch_dtype\": \"bfloat16\"", File.ReadAllText(Path.Combine(outDir, "config.json")).Replace(":\"", ": \""));
        Assert.True(File.Exists(Path.Combine(outDir, "tokenizer.model")), "the tokenizer files come along");
        var ratio = (double)new FileInfo(Path.Combine(outDir, "model.safetensors")).Length / new FileInfo(Path.Combine(source, "model.safetensors")).Length;
        Assert.InRange(ratio, 0.45, 0.55);

        using var expected = ModelLoader.Load(source, new ModelLoadOptions { DType = ScalarType.BFloat16 });
        using var converted = ModelLoader.Load(outDir, new ModelLoadOptions { DType = ScalarType.BFloat16 });
        var want = expected.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in converted.Model.named_parameters())
        {
            Assert.True(p.equal(want[name]).all().item<bool>(), $"{name} differs from the source loaded as bfloat16");
        }

        Assert.Equal(want.Count, converted.Model.named_parameters().Count());
    }

    [Fact]
    public void Converting_onto_itself_or_to_an_unknown_dtype_is_refused_by_name()
    {
        var source = TestFixtures.ModelDir("tiny-llama");
        var same = Assert.Throws<CliException>(() => ConvertCommand.Run(TrainerVerbs.Parse("convert", ["--model", source, "--out", source + "/"]), TextWriter.Null));
        Assert.Contains("the same directory", same.Message);
        var dtype = Assert.Throws<CliException>(() => ConvertCommand.Run(TrainerVerbs.Parse("convert", ["--model", source, "--dtype", "int4", "--out", Path.Combine(temp, "x")]), TextWriter.Null));
        Assert.Contains("--dtype: 'int4'", dtype.Message);
    }

    public void Dispose() => Directory.Delete(temp, recursive: true);
}
