namespace InferenceHost.Model.Tests; public class SmokeTests { [Fact] public void TorchLoads() => Assert.Equal(2f, InferenceHost.Model.Placeholder.Probe()); }
