using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Tokenization;
using static TorchSharp.torch;

namespace InferenceHost.Trainer;

/// <summary>
/// <c>default-model [--out DIR]</c>: writes the server's embedded demo model (the synthetic <c>tiny</c> shape
/// sized for cl100k_base, seed 0) exactly as src/InferenceHost/Hosting/DefaultModel.cs does, so the demo
/// adapters are trained on the very base the server serves. The trainer cannot reference the web host,
/// so the config and seed are repeated here (checked by comparing bytes with a server-written
/// .models/default; see README.md).
/// </summary>
public static class DefaultModelCommand
{
    public const int Seed = 0;

    public static LlamaConfig Config => SyntheticCheckpoint.Shapes["tiny"] with
    {
        VocabSize = EmbeddedTokenizer.Cl100kEmbeddingRows,
        MaxPositionEmbeddings = 2048,
        BosTokenId = null,
        EosTokenIds = [EmbeddedTokenizer.Cl100kEndOfText],
    };

    public static int Run(Args args, TextWriter log)
    {
        var dir = args.Get("out") ?? Path.Combine(".models", "default");
        args.RejectUnknown();
        Write(dir);
        log.WriteLine($"wrote the default demo model to {dir}");
        return 0;
    }

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
