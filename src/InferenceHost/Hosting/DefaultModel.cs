namespace InferenceHost.Hosting;

/// <summary>
/// The model the server serves when <c>Model:Path</c> is empty: the repository's <c>models/default</c> (a
/// small Llama trained here on the DialogSum dialogues, see its README), which the build copies beside the
/// server's assembly so <c>dotnet run</c>, a published folder and the Docker image all carry it.
/// </summary>
public static class DefaultModel
{
    public const string RelativeDirectory = "models/default";

    /// <summary>Where the build put the model: <c>models/default</c> beside the server's assembly.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "models", "default");

    /// <summary>The directory, or an error naming what is missing (a build made without <c>models/default</c>).</summary>
    public static string Locate() => Locate(Directory);

    public static string Locate(string dir)
    {
        string[] required = ["config.json", "model.safetensors", "tokenizer.json"];
        var missing = required.Where(f => !File.Exists(Path.Combine(dir, f))).ToArray();
        if (missing.Length > 0)
        {
            throw new InvalidOperationException(
                $"Model:Path is empty, and the built-in default model at '{dir}' lacks {string.Join(", ", missing)}: the build copies it from " +
                $"the repository's {RelativeDirectory}; restore that folder (git checkout -- {RelativeDirectory}) and rebuild, or set Model:Path to a checkpoint directory");
        }

        return dir;
    }
}
