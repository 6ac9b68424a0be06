using InferenceHost.Apis;

namespace InferenceHost.Hosting;

/// <summary>
/// Keeps runtime adapter loads inside <c>Adapters:AllowedRoots</c>: the path is made absolute, every
/// symbolic link on the way (the directory itself, its parents and its files) is resolved, and the real
/// location must lie under a root. <c>..</c> and links pointing elsewhere are both refused (403); a path that cannot be
/// resolved (a link loop, a name too long) is a 400.
/// </summary>
public static class PathGuard
{
    /// <summary>Linux's PATH_MAX: a longer path can never be opened, and resolving it link by link costs seconds.</summary>
    public const int MaxPathChars = 4096;

    /// <summary>The absolute path with every link along it resolved.</summary>
    public static string Canonical(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full)!;
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                current = Canonical(target.FullName);
            }
        }

        return Path.TrimEndingDirectorySeparator(current);
    }

    /// <summary>Most entries an adapter directory may hold (PEFT writes two files and a README).</summary>
    public const int MaxEntries = 256;

    /// <summary><see cref="Canonical"/>, with what the file system refuses (link loops, names too long) as a 400 naming the path.</summary>
    private static string Resolve(string path, string requested, string param)
    {
        try
        {
            return Canonical(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw ApiException.BadRequest($"'{requested}': {Path.GetFileName(path)} cannot be resolved ({e.Message}); a symbolic link loop?", param, "invalid_path");
        }
    }

    public static bool IsUnder(string canonical, IReadOnlyList<string> roots) =>
        roots.Any(r => canonical.StartsWith(Path.TrimEndingDirectorySeparator(r) + Path.DirectorySeparatorChar, StringComparison.Ordinal));

    /// <summary>Returns the canonical adapter directory, or throws 400 (missing) / 403 (outside the roots).</summary>
    public static string CheckAdapterDirectory(string path, IReadOnlyList<string> roots, string param)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw ApiException.BadRequest($"'{param}' must be a directory path", param);
        }

        if (path.Length > MaxPathChars)
        {
            throw ApiException.BadRequest($"'{param}' is {path.Length} characters long; the limit is {MaxPathChars}", param, "invalid_path");
        }

        var canonical = Resolve(path, path, param);
        if (!IsUnder(canonical, roots))
        {
            throw new ApiException(403, $"'{path}' resolves to '{canonical}', which is outside the allowed adapter roots (Adapters:AllowedRoots: {string.Join(", ", roots)})", param, "path_not_allowed");
        }

        if (!Directory.Exists(canonical))
        {
            throw ApiException.BadRequest(File.Exists(canonical) ? $"'{path}' is a file; give the adapter's directory" : $"adapter directory '{path}' does not exist", param, "not_found");
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
        foreach (var (file, i) in Directory.EnumerateFileSystemEntries(canonical, "*", options).Select((f, i) => (f, i)))
        {
            if (i == MaxEntries)
            {
                throw ApiException.BadRequest($"'{path}' holds more than {MaxEntries} files; an adapter directory holds a few", param);
            }

            var real = Resolve(file, path, param);
            if (!IsUnder(real, roots))
            {
                throw new ApiException(403, $"'{Path.GetFileName(file)}' in '{path}' links to '{real}', outside the allowed adapter roots", param, "path_not_allowed");
            }
        }

        return canonical;
    }
}
