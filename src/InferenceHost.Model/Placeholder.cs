namespace InferenceHost.Model; public static class Placeholder { public static float Probe() { using var t = TorchSharp.torch.ones(2); return t.sum().item<float>(); } }
