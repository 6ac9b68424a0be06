using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace InferenceHost.Fuzz.Adapters;

/// <summary>A valid PEFT LoRA (config and tensors) that the broken kinds start from: a fixture adapter of the served model.</summary>
public sealed class AdapterSource(string directory)
{
    private readonly string _config = File.ReadAllText(Path.Combine(directory, "adapter_config.json"));
    private readonly List<TensorEntry> _tensors = SafetensorsBytes.Read(Path.Combine(directory, "adapter_model.safetensors"));

    public string Directory { get; } = directory;

    /// <summary>A fresh copy each time, to edit.</summary>
    public JsonObject Config => JsonNode.Parse(_config)!.AsObject();

    public List<TensorEntry> Tensors => _tensors.Select(t => t with { Shape = [.. t.Shape], Data = [.. t.Data] }).ToList();
}

/// <summary>One broken adapter's directory under the scratch root, with helpers to write its files (and keep sockets open).</summary>
public sealed partial class AdapterWorkspace(string root, string dir, AdapterSource source, List<IDisposable> keep)
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    public string Root { get; } = root;

    public string Dir { get; } = dir;

    public AdapterSource Source { get; } = source;

    public string Config(JsonObject config) => Write(ConfigFile, config.ToJsonString());

    public string Config(string text) => Write(ConfigFile, text);

    public string Weights(byte[] bytes) => Write(WeightsFile, bytes);

    public string Weights(List<TensorEntry> tensors, Action<JsonObject>? edit = null) => Weights(SafetensorsBytes.Write(tensors, edit));

    /// <summary>The valid config and weights.</summary>
    public string Valid()
    {
        Config(Source.Config);
        return Weights(Source.Tensors);
    }

    public string File(string name) => Path.Combine(Dir, name);

    public string Write(string name, string text) => Write(name, System.Text.Encoding.UTF8.GetBytes(text));

    public string Write(string name, byte[] bytes)
    {
        System.IO.File.WriteAllBytes(File(name), bytes);
        return Dir;
    }

    public void Fifo(string name)
    {
        if (MkFifo(File(name), 0b110_100_100) != 0)
        {
            throw new IOException($"mkfifo {File(name)} failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>A listening Unix socket at the file's place, open until the run ends.</summary>
    public void Socket(string name)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(File(name)));
        socket.Listen();
        keep.Add(socket);
    }

    public void Link(string name, string target) => System.IO.File.CreateSymbolicLink(File(name), target);

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkFifo(string path, uint mode);
}
