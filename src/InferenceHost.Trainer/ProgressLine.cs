using System.Diagnostics;

namespace InferenceHost.Trainer;

/// <summary>
/// A console progress bar: redrawn in place on a terminal, one line every few seconds when the output is
/// a file (so nohup logs stay readable). <paramref name="start"/> is where a resumed run starts, so the ETA
/// is from this run's own pace.
/// </summary>
public sealed class ProgressLine(TextWriter output, string label, int total, int start = 0)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly bool interactive = ReferenceEquals(output, Console.Error) && !Console.IsErrorRedirected;
    private double lastPrint = double.NegativeInfinity;
    private string last = "";

    public void Update(int done, string detail)
    {
        var elapsed = clock.Elapsed.TotalSeconds;
        var eta = done > start ? elapsed / (done - start) * (total - done) : 0;
        const int width = 24;
        var filled = total > 0 ? (int)Math.Round(width * (double)done / total) : 0;
        last = $"{label} [{new string('#', filled)}{new string('.', width - filled)}] {done}/{total} {detail} | {elapsed:F0}s elapsed, eta {eta:F0}s";
        if (interactive)
        {
            output.Write("\r" + last.PadRight(Console.WindowWidth > 0 ? Math.Min(Console.WindowWidth - 1, 160) : 0));
        }
        else if (elapsed - lastPrint >= 5 || done == total)
        {
            output.WriteLine(last);
            lastPrint = elapsed;
        }
    }

    public void Note(string message)
    {
        if (interactive)
        {
            output.WriteLine();
        }

        output.WriteLine(message);
    }

    public void Finish()
    {
        if (interactive)
        {
            output.WriteLine();
        }
    }
}
