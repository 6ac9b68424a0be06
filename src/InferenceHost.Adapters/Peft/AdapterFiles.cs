namespace InferenceHost.Adapters.Peft;

/// <summary>
/// Checks an adapter's file before anything opens it. Opening a FIFO blocks until a writer comes, a device
/// file never ends, a symlink loop fails late: each is refused here, by type, with the adapter and file named.
/// </summary>
internal static class AdapterFiles
{
    /// <summary>Largest adapter config we read (real ones are a few KiB).</summary>
    public const long MaxConfigBytes = 1 << 20;

    /// <summary>Largest adapter weights file we read into memory.</summary>
    public const long MaxWeightsBytes = 4L << 30;

    /// <summary>Null when <paramref name="path"/> is a regular, non-empty file of at most <paramref name="maxBytes"/>; else why not.</summary>
    public static string? Problem(string path, long maxBytes)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                if (target is null || !target.Exists)
                {
                    return "is a symbolic link to nothing";
                }

                info = new FileInfo(target.FullName);
            }

            if (Directory.Exists(info.FullName))
            {
                return "is a directory, not a file";
            }

            if (!info.Exists)
            {
                return null; // absent: the caller says which file is missing
            }

            // .NET reports FIFOs, sockets and device files as zero-length files; a real adapter file never is.
            return info.Length == 0 ? "is empty or not a regular file (a FIFO, socket or device file is refused)"
                : info.Length > maxBytes ? $"is {info.Length} bytes, over the {maxBytes}-byte limit"
                : null;
        }
        catch (IOException e)
        {
            return $"cannot be inspected ({e.Message}; a symbolic link loop?)";
        }
        catch (UnauthorizedAccessException e)
        {
            return $"cannot be read ({e.Message})";
        }
    }

    /// <summary>Whether the file exists, after the type checks (a dangling or looping link counts as a problem, not as absent).</summary>
    public static void Check(string adapter, string path, string field, long maxBytes)
    {
        if (Problem(path, maxBytes) is { } problem)
        {
            throw new AdapterException(adapter, field, problem);
        }
    }
}
