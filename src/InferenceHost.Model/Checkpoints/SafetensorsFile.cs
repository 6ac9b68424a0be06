using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using TorchSharp;

namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// A memory-mapped, read-only safetensors file. <see cref="Open"/> validates the whole header against the
/// file (see <see cref="SafetensorsHeader"/>), so every later read is in bounds. Tensors are copied out of
/// the mapping into fresh tensors; nothing returned aliases the mapping, so disposing this is always safe.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte[]? _buffer; // a pinned copy of the whole file (ReadWhole), instead of a mapping
    private readonly byte* _base;
    private readonly long _dataStart;
    private readonly Dictionary<string, TensorInfo> _tensors;
    private bool _disposed;

    private SafetensorsFile(string path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte[]? buffer, byte* basePointer,
        long dataStart, Dictionary<string, TensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _map = map;
        _view = view;
        _buffer = buffer;
        _base = basePointer;
        _dataStart = dataStart;
        _tensors = tensors;
        Metadata = metadata;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafetensorsFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors data is little-endian; this machine is not");
        }

        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, $"cannot open the safetensors file: {e.Message}", e);
        }

        var length = stream.Length;
        if (length < 8)
        {
            stream.Dispose();
            throw new CheckpointException(path, $"the file is {length} bytes, too short for the 8-byte header length (truncated?)");
        }

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        var acquired = false;
        try
        {
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            acquired = true;
            pointer += view.PointerOffset;

            var (dataStart, tensors, metadata) = ParseHeader(path, pointer, length);
            return new SafetensorsFile(path, map, view, null, pointer, dataStart, tensors, metadata);
        }
        catch
        {
            if (acquired)
            {
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            }

            view?.Dispose();
            map?.Dispose();
            if (map is null)
            {
                stream.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Reads the whole file into memory instead of mapping it (adapters: small files from less trusted places).
    /// A mapping of a file that shrinks while in use kills the process with SIGBUS; a copy cannot. Refuses files
    /// over <paramref name="maxBytes"/> and a file whose size changes while it is read.
    /// </summary>
    public static SafetensorsFile ReadWhole(string path, long maxBytes)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors data is little-endian; this machine is not");
        }

        byte[] buffer;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            var length = stream.Length;
            if (length > Math.Min(maxBytes, Array.MaxLength))
            {
                throw new CheckpointException(path, $"the file is {length} bytes, over the {maxBytes}-byte limit");
            }

            buffer = GC.AllocateUninitializedArray<byte>((int)length, pinned: true);
            var read = 0;
            while (read < buffer.Length && stream.Read(buffer, read, buffer.Length - read) is var n and > 0)
            {
                read += n;
            }

            if (read != length || stream.ReadByte() != -1 || stream.Length != length) // the open file, not a link's own size
            {
                throw new CheckpointException(path, $"the file changed size while it was read ({length} bytes at the start, {read} read); try again once it is written");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, $"cannot read the safetensors file: {e.Message}", e);
        }

        if (buffer.Length < 8)
        {
            throw new CheckpointException(path, $"the file is {buffer.Length} bytes, too short for the 8-byte header length (truncated?)");
        }

        var pointer = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(buffer)); // pinned for its lifetime
        var (dataStart, tensors, metadata) = ParseHeader(path, pointer, buffer.Length);
        return new SafetensorsFile(path, null, null, buffer, pointer, dataStart, tensors, metadata);
    }

    private static (long DataStart, Dictionary<string, TensorInfo> Tensors, Dictionary<string, string> Metadata) ParseHeader(string path, byte* pointer, long length)
    {
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(pointer, 8));
        if (headerLength > SafetensorsHeader.MaxHeaderBytes)
        {
            throw new CheckpointException(path, $"header length {headerLength} is over the {SafetensorsHeader.MaxHeaderBytes}-byte limit (not a safetensors file, or corrupt)");
        }

        if ((long)headerLength > length - 8)
        {
            throw new CheckpointException(path, $"header length {headerLength} is more than the {length - 8} bytes after it (truncated file?)");
        }

        var json = new ReadOnlySpan<byte>(pointer + 8, (int)headerLength).ToArray();
        var dataStart = 8 + (long)headerLength;
        var (tensors, metadata) = SafetensorsHeader.Parse(path, json, length - dataStart);
        return (dataStart, tensors, metadata);
    }

    public TensorInfo Info(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tensors.TryGetValue(name, out var info)
            ? info
            : throw new CheckpointException(Path, $"no tensor named \"{name}\" in this file");
    }

    /// <summary>The raw little-endian bytes of a tensor, valid until this file is disposed.</summary>
    public ReadOnlySpan<byte> Bytes(string name)
    {
        var info = Info(name);
        if (info.ByteCount > int.MaxValue)
        {
            throw new CheckpointException(Path, $"tensor \"{name}\" is {info.ByteCount} bytes, too large for a span; use Load");
        }

        return new ReadOnlySpan<byte>(_base + _dataStart + info.Begin, (int)info.ByteCount);
    }

    /// <summary>
    /// Copies a tensor into a new TorchSharp tensor with the file's dtype, then converts it to
    /// <paramref name="dtype"/> and moves it to <paramref name="device"/> when given.
    /// </summary>
    public torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null)
    {
        var info = Info(name);
        var stored = SafetensorsDType.ToScalarType(info.DType)
            ?? throw new CheckpointException(Path, $"tensor \"{name}\" has dtype {info.DType}, which TorchSharp cannot hold");
        using var scope = torch.NewDisposeScope();
        var tensor = torch.empty(info.Shape, stored, torch.CPU);
        TensorBytes.CopyInto(tensor, _base + _dataStart + info.Begin, info.ByteCount);
        if (dtype is { } wanted && wanted != stored)
        {
            tensor = tensor.to(wanted);
        }

        if (device is not null && device.type != DeviceType.CPU)
        {
            tensor = tensor.to(device);
        }

        return tensor.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _view?.SafeMemoryMappedViewHandle.ReleasePointer();
        _view?.Dispose();
        _map?.Dispose();
        GC.KeepAlive(_buffer); // the copy the pointer points into
    }
}
