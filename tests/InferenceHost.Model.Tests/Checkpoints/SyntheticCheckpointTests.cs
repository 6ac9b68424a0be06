using InferenceHost.Model.Checkpoints;
using TorchSharp;
using static InferenceHost.Model.Tests.Checkpoints.TestFiles;

namespace InferenceHost.Model.Tests.Checkpoints;

public class SyntheticCheckpointTests
{
    private static string Tokenizer => Path.Combine(Fixture("tiny-llama"), "tokenizer.model");

    [Theory]
    [InlineData("tiny-llama")]
    [InlineData("tiny-llama-bf16")]
    public void FixtureNamesAndShapesAreTheExpectedTensors(string fixture)
    {
        var config = LlamaConfig.Load(Path.Combine(Fixture(fixture), "config.json"));
        using var reader = CheckpointReader.Open(Fixture(fixture));
        var expected = SyntheticCheckpoint.ExpectedTensors(config);
        reader.CheckNames(expected.Select(t => t.Name).ToList(), []);
        foreach (var (name, shape) in expected)
        {
            Assert.Equal(shape, reader.Info(name).Shape);
        }

        Assert.Equal(!config.TieWordEmbeddings, reader.Names.Contains("lm_head.weight"));
    }

    [Fact]
    public void TinyShapeIsTheFixtureShape()
    {
        var fixture = LlamaConfig.Load(Path.Combine(Fixture("tiny-llama"), "config.json"));
        var tiny = SyntheticCheckpoint.Shapes["tiny"];
        Assert.Equal(
            SyntheticCheckpoint.ExpectedTensors(fixture).Select(t => (t.Name, string.Join(",", t.Shape))),
            SyntheticCheckpoint.ExpectedTensors(tiny).Select(t => (t.Name, string.Join(",", t.Shape))));
    }

    [Fact]
    public void NamedShapesAreValidAndHaveTheirPublishedSizes()
    {
        foreach (var (name, config) in SyntheticCheckpoint.Shapes)
        {
            config.Validate(name);
        }

        long Parameters(string shape) => SyntheticCheckpoint.ExpectedTensors(SyntheticCheckpoint.Shapes[shape])
            .Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(6_738_415_616L, Parameters("llama-2-7b"));     // Llama-2-7b-hf model card / safetensors total
        Assert.Equal(1_100_048_384L, Parameters("tinyllama-1.1b")); // TinyLlama-1.1B
        Assert.Equal(134_515_008L, Parameters("smollm-135m"));      // SmolLM-135M
    }

    [Fact]
    public void SameSeedSameBytesOtherSeedOtherBytes()
    {
        using var dir = new TempDir();
        string Make(string sub, int seed)
        {
            var path = Path.Combine(dir.Path, sub);
            SyntheticCheckpoint.Write(path, "tiny", seed, Tokenizer, torch.ScalarType.Float32);
            return path;
        }

        var a = Make("a", 7);
        var b = Make("b", 7);
        var c = Make("c", 8);
        var model = CheckpointReader.SingleFile;
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, model)), File.ReadAllBytes(Path.Combine(b, model)));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a, model)), File.ReadAllBytes(Path.Combine(c, model)));

        using var ra = CheckpointReader.Open(a);
        using var rc = CheckpointReader.Open(c);
        foreach (var name in ra.Names.Where(n => !n.EndsWith("norm.weight")))
        {
            Assert.NotEqual(ra.Load(name).bytes.ToArray(), rc.Load(name).bytes.ToArray());
        }
    }

    [Fact]
    public void TinyCheckpointLoadsWithConfigTokenizerAndStatistics()
    {
        using var dir = new TempDir();
        SyntheticCheckpoint.Write(dir.Path, "tiny", 3, Tokenizer, torch.ScalarType.BFloat16);
        var config = LlamaConfig.Load(Path.Combine(dir.Path, "config.json"));
        Assert.Equal(SyntheticCheckpoint.Shapes["tiny"] with { TorchDtype = "bfloat16", EosTokenIds = config.EosTokenIds }, config);
        Assert.Equal(File.ReadAllBytes(Tokenizer), File.ReadAllBytes(Path.Combine(dir.Path, "tokenizer.model")));
        var tokenizerConfig = File.ReadAllText(Path.Combine(dir.Path, "tokenizer_config.json"));
        Assert.Contains("\"add_bos_token\": true", tokenizerConfig);
        Assert.Contains("\"bos_token\": \"<s>\"", tokenizerConfig);
        Assert.Contains("\"eos_token\": \"</s>\"", tokenizerConfig);

        using var reader = CheckpointReader.Open(dir.Path);
        var expected = SyntheticCheckpoint.ExpectedTensors(config);
        reader.CheckNames(expected.Select(t => t.Name).ToList(), []);
        Assert.DoesNotContain("lm_head.weight", reader.Names);
        using var scope = torch.NewDisposeScope();
        foreach (var (name, shape) in expected)
        {
            var t = reader.Load(name, torch.ScalarType.Float32);
            Assert.Equal(shape, t.shape);
            Assert.Equal("BF16", reader.Info(name).DType);
            if (name.EndsWith("norm.weight"))
            {
                Assert.True(t.eq(1).all().item<bool>(), name);
            }
            else
            {
                var std = t.std().item<float>();
                Assert.InRange(std, 0.018, 0.022);
                Assert.InRange(t.mean().item<float>(), -0.003, 0.003);
            }
        }
    }

    [Fact]
    public void VocabularyCanBeOverridden()
    {
        using var dir = new TempDir();
        SyntheticCheckpoint.Write(dir.Path, "tiny", 1, Tokenizer, torch.ScalarType.Float16, vocabSize: 500);
        Assert.Equal(500, LlamaConfig.Load(Path.Combine(dir.Path, "config.json")).VocabSize);
        using var reader = CheckpointReader.Open(dir.Path);
        Assert.Equal([500L, 64L], reader.Info("model.embed_tokens.weight").Shape);
        Assert.Equal("F16", reader.Info("model.embed_tokens.weight").DType);
    }

    [Fact]
    public void BadArgumentsAreRefused()
    {
        using var dir = new TempDir();
        Assert.Throws<ArgumentException>(() => SyntheticCheckpoint.Write(dir.Path, "gpt-5", 1, Tokenizer, torch.ScalarType.Float32));
        Assert.Throws<ArgumentException>(() => SyntheticCheckpoint.Write(dir.Path, "tiny", 1, Tokenizer, torch.ScalarType.Int32));
        var missing = Path.Combine(dir.Path, "nope.model");
        var e = Assert.Throws<CheckpointException>(() => SyntheticCheckpoint.Write(dir.Path, "tiny", 1, missing, torch.ScalarType.Float32));
        AssertMessage(e, missing, "not found");
        Assert.Throws<CheckpointException>(() => SyntheticCheckpoint.Write(dir.Path, "tiny", 1, Tokenizer, torch.ScalarType.Float32, vocabSize: 0));
    }
}

public class SyntheticCheckpointTokenizerTests
{
    [Fact]
    public void A_byte_level_tokenizer_json_stays_one_and_sizes_the_vocabulary_and_special_ids()
    {
        using var source = new InferenceHost.Model.Tests.Tokenization.TempDir();
        var tokenizer = InferenceHost.Model.Tests.Tokenization.TinyTokenizers.LoadByteLevel(source);
        using var dir = new TempDir();
        SyntheticCheckpoint.Write(dir.Path, "tiny", 1, Path.Combine(source.Path, "tokenizer.json"), torch.ScalarType.Float32);

        Assert.True(File.Exists(Path.Combine(dir.Path, "tokenizer.json")));
        Assert.False(File.Exists(Path.Combine(dir.Path, "tokenizer.model"))); // not a BPE file under a SentencePiece name
        var config = LlamaConfig.Load(Path.Combine(dir.Path, "config.json"));
        Assert.Equal(tokenizer.VocabSize, config.VocabSize); // not Llama 2's 32,000
        Assert.Equal(InferenceHost.Model.Tests.Tokenization.TinyTokenizers.EndOfText, Assert.Single(config.EosTokenIds)); // its own end of text, not Llama 2's 2
        Assert.Contains("<|endoftext|>", File.ReadAllText(Path.Combine(dir.Path, "tokenizer_config.json")));
        Assert.DoesNotContain("LlamaTokenizer\"", File.ReadAllText(Path.Combine(dir.Path, "tokenizer_config.json")));
        using var model = ModelLoader.Load(dir.Path);
        Assert.Equal(tokenizer.Encode("hello", addSpecialTokens: false), model.Tokenizer.Encode("hello", addSpecialTokens: false));
        Assert.Equal(InferenceHost.Model.Tests.Tokenization.TinyTokenizers.EndOfText, model.Tokenizer.EosId);
    }
}
