using InferenceHost.Model.Checkpoints;
using TorchSharp;
using static InferenceHost.Model.Tests.Checkpoints.TestFiles;

namespace InferenceHost.Model.Tests.Checkpoints;

public class LeakTests
{
    [Fact]
    public void LoadingAndWritingLeaveNoLiveTensorsBehind()
    {
        // The statistics are per thread, so tests running in parallel on other threads do not disturb them.
        using var dir = new TempDir();
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var round = 0; round < 5; round++)
        {
            using var reader = CheckpointReader.Open(Fixture("tiny-llama-bf16"));
            var loaded = reader.Names.Select(n => KeyValuePair.Create(n, reader.Load(n, torch.ScalarType.Float32))).ToList();
            SafetensorsWriter.Write(Path.Combine(dir.Path, "copy.safetensors"), loaded);
            foreach (var (_, t) in loaded)
            {
                t.Dispose();
            }

            SyntheticCheckpoint.Write(Path.Combine(dir.Path, "synthetic"), "tiny", round, Path.Combine(Fixture("tiny-llama"), "tokenizer.model"),
                torch.ScalarType.BFloat16, vocabSize: 300);
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
