using System.IO.Compression;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Model.Tokenization;

/// <summary>
/// The tokenizer of the server's built-in demo model: OpenAI's cl100k_base, taken from the
/// Microsoft.ML.Tokenizers.Data.Cl100kBase package (an embedded, deflate-compressed tiktoken file) and
/// written out in the layout <see cref="TokenizerLoader"/> reads.
/// </summary>
public static class EmbeddedTokenizer
{
    private const string DataAssembly = "Microsoft.ML.Tokenizers.Data.Cl100kBase";
    private const string DataResource = "cl100k_base.tiktoken.deflate";

    /// <summary>cl100k_base's special tokens (tiktoken's definition).</summary>
    public static IReadOnlyDictionary<string, int> Cl100kSpecialTokens { get; } = new Dictionary<string, int>
    {
        ["<|endoftext|>"] = 100257,
        ["<|fim_prefix|>"] = 100258,
        ["<|fim_middle|>"] = 100259,
        ["<|fim_suffix|>"] = 100260,
        ["<|endofprompt|>"] = 100276,
    };

    public const int Cl100kEndOfText = 100257;

    /// <summary>Ordinary (BPE) tokens of cl100k_base: ranks 0..100255.</summary>
    public const int Cl100kBaseRanks = 100256;

    /// <summary>Ids cl100k_base can produce: 0..100276, so 100277 (tiktoken's n_vocab). VocabSize reports this.</summary>
    public const int Cl100kVocabSize = 100277;

    /// <summary>Embedding rows for a model using cl100k_base: <see cref="Cl100kVocabSize"/> rounded up to 128.</summary>
    public const int Cl100kEmbeddingRows = 100352;

    /// <summary>
    /// Writes <c>dir/tokenizer.model</c> (tiktoken format, cl100k_base ranks) and <c>dir/tokenizer_config.json</c>
    /// (no BOS, EOS <c>&lt;|endoftext|&gt;</c> 100257, the special tokens in added_tokens_decoder).
    /// </summary>
    public static void WriteCl100kBase(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        Directory.CreateDirectory(dir);
        var modelPath = Path.Combine(dir, TokenizerLoader.ModelFile);
        // The package stores the ranks compactly: a "Capacity: N" line, then one base64 token per line with
        // the rank implied by the line number. Write the standard tiktoken "base64 rank" form instead.
        using (var data = OpenCl100kData())
        using (var reader = new StreamReader(new DeflateStream(data, CompressionMode.Decompress)))
        using (var writer = new StreamWriter(modelPath, append: false, new System.Text.UTF8Encoding(false)) { NewLine = "\n" })
        {
            int rank = 0;
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
                writer.Write(line);
                writer.Write(' ');
                writer.WriteLine(rank++);
            }
            if (rank != Cl100kBaseRanks)
                throw new CheckpointException(DataAssembly + ".dll", $"expected {Cl100kBaseRanks} cl100k_base ranks, found {rank}");
        }

        var decoder = new JsonObject();
        foreach (var (content, id) in Cl100kSpecialTokens.OrderBy(p => p.Value))
            decoder[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = content, ["lstrip"] = false, ["normalized"] = false, ["rstrip"] = false,
                ["single_word"] = false, ["special"] = true,
            };
        var config = new JsonObject
        {
            ["add_bos_token"] = false,
            ["add_eos_token"] = false,
            ["eos_token"] = "<|endoftext|>",
            ["pad_token"] = "<|endoftext|>",
            ["added_tokens_decoder"] = decoder,
            ["tokenizer_class"] = "cl100k_base",
        };
        File.WriteAllText(Path.Combine(dir, TokenizerConfig.FileName),
            config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static Stream OpenCl100kData()
    {
        Assembly asm;
        try { asm = Assembly.Load(DataAssembly); }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException)
        {
            throw new CheckpointException(DataAssembly + ".dll", "the embedded cl100k_base data assembly is missing", ex);
        }
        return asm.GetManifestResourceStream(DataResource)
            ?? throw new CheckpointException(DataAssembly + ".dll", $"resource {DataResource} not found");
    }
}
