namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// A checkpoint, config, tokenizer or adapter file that cannot be used. The message always names the
/// file and what is wrong with it, so it can be shown to a user as it is.
/// </summary>
public class CheckpointException : Exception
{
    public CheckpointException(string file, string problem, Exception? inner = null)
        : base($"{file}: {problem}", inner)
    {
        File = file;
        Problem = problem;
    }

    public string File { get; }

    public string Problem { get; }
}
