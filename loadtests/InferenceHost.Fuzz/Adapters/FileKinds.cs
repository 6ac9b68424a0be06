using static InferenceHost.Fuzz.Adapters.BrokenKind;

namespace InferenceHost.Fuzz.Adapters;

/// <summary>Special files where a file is expected, links, path escapes, and the controls that must load.</summary>
internal static class FileKinds
{
    private const string Special = "special-files";
    private const string Paths = "paths";
    private const string Controls = "controls";

    private static Func<AdapterWorkspace, string> ConfigAnd(Action<AdapterWorkspace> weights) => w =>
    {
        w.Config(w.Source.Config);
        weights(w);
        return w.Dir;
    };

    public static IEnumerable<BrokenKind> All() =>
    [
        new("weights-fifo", Special, "the weights file is a FIFO (mkfifo)", Expect.Refuse, ConfigAnd(w => w.Fifo(AdapterWorkspace.WeightsFile))),
        new("config-fifo", Special, "the config file is a FIFO", Expect.Refuse, w =>
        {
            w.Fifo(AdapterWorkspace.ConfigFile);
            return w.Weights(w.Source.Tensors);
        }),
        new("weights-socket", Special, "the weights file is a listening Unix socket", Expect.Refuse, ConfigAnd(w => w.Socket(AdapterWorkspace.WeightsFile))),
        new("weights-dev-zero", Special, "the weights file links to /dev/zero", Expect.Refuse, ConfigAnd(w => w.Link(AdapterWorkspace.WeightsFile, "/dev/zero"))),
        new("config-dev-zero", Special, "the config file links to /dev/zero", Expect.Refuse, w =>
        {
            w.Link(AdapterWorkspace.ConfigFile, "/dev/zero");
            return w.Weights(w.Source.Tensors);
        }),
        new("weights-is-directory", Special, "the weights file is a directory", Expect.Refuse, ConfigAnd(w => Directory.CreateDirectory(w.File(AdapterWorkspace.WeightsFile)))),
        new("config-is-directory", Special, "the config file is a directory", Expect.Refuse, w =>
        {
            Directory.CreateDirectory(w.File(AdapterWorkspace.ConfigFile));
            return w.Weights(w.Source.Tensors);
        }),
        new("weights-symlink-loop", Special, "weights -> x -> weights", Expect.Refuse, ConfigAnd(w =>
        {
            w.Link(AdapterWorkspace.WeightsFile, w.File("x"));
            w.Link("x", w.File(AdapterWorkspace.WeightsFile));
        })),
        new("weights-self-link", Special, "the weights file links to itself", Expect.Refuse, ConfigAnd(w => w.Link(AdapterWorkspace.WeightsFile, w.File(AdapterWorkspace.WeightsFile)))),
        new("weights-dangling-link", Special, "the weights file links to nothing", Expect.Refuse, ConfigAnd(w => w.Link(AdapterWorkspace.WeightsFile, w.File("nowhere")))),
        new("path-dotdot", Paths, "root/.. (the root's parent)", Expect.Refuse, w => w.Root + "/.."),
        new("path-dotdot-into-fixture", Paths, "root/../.. then down to the fixture adapter", Expect.Refuse, w => w.Root + "/../../.." + w.Source.Directory),
        new("path-absolute-outside", Paths, "the fixture adapter's absolute path (valid, outside the root)", Expect.Refuse, w => w.Source.Directory),
        new("path-etc", Paths, "/etc", Expect.Refuse, _ => "/etc"),
        new("path-relative-escape", Paths, "../../../../etc (relative)", Expect.Refuse, _ => "../../../../etc"),
        new("path-symlinked-dir", Paths, "a directory link in the root to the fixture adapter", Expect.Refuse, w =>
        {
            Directory.Delete(w.Dir);
            Directory.CreateSymbolicLink(w.Dir, w.Source.Directory);
            return w.Dir;
        }),
        new("path-files-linked-outside", Paths, "both files link to the fixture adapter's files", Expect.Refuse, w =>
        {
            w.Link(AdapterWorkspace.ConfigFile, Path.Combine(w.Source.Directory, AdapterWorkspace.ConfigFile));
            w.Link(AdapterWorkspace.WeightsFile, Path.Combine(w.Source.Directory, AdapterWorkspace.WeightsFile));
            return w.Dir;
        }),
        new("path-dir-symlink-loop", Paths, "the adapter directory is a link loop", Expect.Refuse, w =>
        {
            Directory.Delete(w.Dir);
            Directory.CreateSymbolicLink(w.Dir, w.Dir + "-2");
            Directory.CreateSymbolicLink(w.Dir + "-2", w.Dir);
            return w.Dir;
        }),
        new("path-nonexistent", Paths, "a directory that does not exist", Expect.Refuse, w => w.Dir + "/missing"),
        new("path-is-file", Paths, "the path names a file", Expect.Refuse, w =>
        {
            w.Valid();
            return w.File(AdapterWorkspace.ConfigFile);
        }),
        new("path-empty", Paths, "an empty path", Expect.Refuse, _ => string.Empty),
        new("path-long-component", Paths, "a 300-character path component", Expect.Refuse, w => w.Dir + "/" + new string('c', 300)),
        new("path-over-path-max", Paths, "a 6,000-character path", Expect.Refuse, w => w.Dir + string.Concat(Enumerable.Repeat("/a", 3000))),
        new("valid-control", Controls, "a valid copy of the fixture adapter", Expect.Accept, w => w.Valid()),
        new("valid-dotdot-inside", Controls, "root/x/../x: '..' that stays inside the root", Expect.Accept, w =>
        {
            w.Valid();
            return $"{w.Dir}/../{Path.GetFileName(w.Dir)}";
        }),
        new("valid-links-inside", Controls, "files that link to files inside the root", Expect.Accept, w =>
        {
            var target = Directory.CreateDirectory(w.Dir + "-target").FullName;
            new AdapterWorkspace(w.Root, target, w.Source, []).Valid();
            w.Link(AdapterWorkspace.ConfigFile, Path.Combine(target, AdapterWorkspace.ConfigFile));
            w.Link(AdapterWorkspace.WeightsFile, Path.Combine(target, AdapterWorkspace.WeightsFile));
            return w.Dir;
        }),
        new("valid-self-link-inside", Controls, "a valid adapter with a link to its own directory inside", Expect.NoServerError, w =>
        {
            w.Valid();
            Directory.CreateSymbolicLink(w.File("loop"), w.Dir);
            return w.Dir;
        }),
        new("weights-growing", Controls, "the weights file grows while the server reads it", Expect.NoServerError, w => w.Valid())
        {
            During = async (w, ct) =>
            {
                await using var grow = new FileStream(w.File(AdapterWorkspace.WeightsFile), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
                var chunk = new byte[64 * 1024];
                while (!ct.IsCancellationRequested && grow.Length < (64 << 20))
                {
                    await grow.WriteAsync(chunk, CancellationToken.None);
                    await grow.FlushAsync(CancellationToken.None);
                    await Task.Yield();
                }
            },
        },
    ];
}
