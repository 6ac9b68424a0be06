using InferenceHost.Model.Tokenization;
using static TorchSharp.torch;

namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// The random demo model the server runs when no checkpoint is configured (and the trainer makes the demo
/// adapters on): the synthetic <c>tiny</c> Llama shape sized for the cl100k_base tokenizer that ships in a
/// NuGet data package, seeded N(0, 0.02) weights. One definition, so both write the same bytes.
/// </summary>
public static class DemoModel
{
    public const int Seed = 0;

    public static LlamaConfig Config => SyntheticCheckpoint.Shapes["tiny"] with
    {
        VocabSize = EmbeddedTokenizer.Cl100kEmbeddingRows,
        MaxPositionEmbeddings = 2048,
        BosTokenId = null,
        EosTokenIds = [EmbeddedTokenizer.Cl100kEndOfText],
    };

    /// <summary>Writes the model (config, weights, cl100k tokenizer files) into <paramref name="dir"/>.</summary>
    public static void Write(string dir)
    {
        Directory.CreateDirectory(dir);
        var temp = Directory.CreateTempSubdirectory("cl100k-").FullName;
        try
        {
            EmbeddedTokenizer.WriteCl100kBase(temp);
            SyntheticCheckpoint.Write(dir, Config, Seed, Path.Combine(temp, TokenizerLoader.ModelFile), ScalarType.Float32);
            File.Copy(Path.Combine(temp, TokenizerConfig.FileName), Path.Combine(dir, TokenizerConfig.FileName), overwrite: true); // cl100k's, not SentencePiece's
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }
}
