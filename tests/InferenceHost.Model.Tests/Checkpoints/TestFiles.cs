using System.Buffers.Binary;
using System.Text;
using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Model.Tests.Checkpoints;

/// <summary>Where the shared fixtures are, and scratch directories and hand-made files for error cases.</summary>
internal static class TestFiles
{
    private static readonly Lazy<string> FixturesRoot = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir?.Parent is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.Parent.FullName, "shared", "fixtures");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"shared/fixtures not found in any parent of {AppContext.BaseDirectory}; the tests need ../shared/fixtures beside the repository");
    });

    public static string Fixture(string name) => Path.Combine(FixturesRoot.Value, name);

    /// <summary>A raw safetensors file: 8-byte length, the header text as given, then the data bytes.</summary>
    public static byte[] Raw(string header, byte[] data, ulong? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    /// <summary>Asserts that opening the bytes fails with a message naming the file and containing every fragment.</summary>
    public static CheckpointException AssertRejected(TempDir dir, byte[] bytes, params string[] fragments)
    {
        var path = dir.File("bad.safetensors", bytes);
        var e = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path).Dispose());
        AssertMessage(e, path, fragments);
        return e;
    }

    public static void AssertMessage(CheckpointException e, string file, params string[] fragments)
    {
        Assert.Equal(file, e.File);
        Assert.StartsWith(file, e.Message);
        foreach (var fragment in fragments)
        {
            Assert.Contains(fragment, e.Message);
        }
    }
}

internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ckpt-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name, byte[] bytes)
    {
        var full = System.IO.Path.Combine(Path, name);
        System.IO.File.WriteAllBytes(full, bytes);
        return full;
    }

    public string Text(string name, string text)
    {
        var full = System.IO.Path.Combine(Path, name);
        System.IO.File.WriteAllText(full, text);
        return full;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
