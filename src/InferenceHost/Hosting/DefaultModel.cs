using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Tokenization;
using static TorchSharp.torch;

namespace InferenceHost.Hosting;

/// <summary>
/// The random demo model served when <c>Model:Path</c> is empty: the synthetic <c>tiny</c> Llama shape
/// (hidden 64, 3 layers) sized for the cl100k_base tokenizer that ships in a NuGet data package, with
/// seeded N(0, 0.02) weights. It produces noise; it exists so the server runs with no download.
/// </summary>
public static class DefaultModel
{
    public const int Seed = 0;

    public static string Directory => Path.Combine(Environment.CurrentDirectory, ".models", "default");

    public static LlamaConfig Config => SyntheticCheckpoint.Shapes["tiny"] with
    {
        VocabSize = EmbeddedTokenizer.Cl100kEmbeddingRows,
        MaxPositionEmbeddings = 2048,
        BosTokenId = null,
        EosTokenIds = [EmbeddedTokenizer.Cl100kEndOfText],
    };

    /// <summary>Writes the model into <see cref="Directory"/> unless it is already there; returns the directory.</summary>
    public static string EnsureWritten() => EnsureWritten(Directory);

    public static string EnsureWritten(string dir)
    {
        if (File.Exists(Path.Combine(dir, "model.safetensors")) && File.Exists(Path.Combine(dir, "config.json")))
        {
            return dir;
        }

        // Built beside the target and renamed into place, so a crash never leaves half a model behind.
        var staging = dir + ".partial-" + Environment.ProcessId;
        System.IO.Directory.CreateDirectory(staging);
        EmbeddedTokenizer.WriteCl100kBase(staging);
        var tokenizer = Path.Combine(staging, "tokenizer.model");
        var tokenizerConfig = File.ReadAllText(Path.Combine(staging, "tokenizer_config.json"));
        var copy = Path.Combine(Path.GetTempPath(), $"cl100k-{Environment.ProcessId}.tiktoken");
        File.Copy(tokenizer, copy, overwrite: true);
        SyntheticCheckpoint.Write(staging, Config, Seed, copy, ScalarType.Float32);
        File.Delete(copy);
        File.WriteAllText(Path.Combine(staging, "tokenizer_config.json"), tokenizerConfig); // cl100k's, not SentencePiece's
        if (System.IO.Directory.Exists(dir))
        {
            System.IO.Directory.Delete(dir, recursive: true);
        }

        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
        System.IO.Directory.Move(staging, dir);
        return dir;
    }
}
