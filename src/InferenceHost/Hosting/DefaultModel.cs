using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Hosting;

/// <summary>
/// Where the server keeps the random demo model (<see cref="DemoModel"/>) it serves when <c>Model:Path</c>
/// is empty. It produces noise; it exists so the server runs with no download.
/// </summary>
public static class DefaultModel
{
    public static string Directory => Path.Combine(Environment.CurrentDirectory, ".models", "default");

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
        DemoModel.Write(staging);
        if (System.IO.Directory.Exists(dir))
        {
            System.IO.Directory.Delete(dir, recursive: true);
        }

        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
        System.IO.Directory.Move(staging, dir);
        return dir;
    }
}
