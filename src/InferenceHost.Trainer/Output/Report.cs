using System.Text.Json;
using System.Text.Json.Serialization;
using InferenceHost.Trainer.Training;
using ScottPlot;

namespace InferenceHost.Trainer.Output;

/// <summary>The training report: settings, data counts, sizes, speed, history; plus PNG plots.</summary>
public static class Report
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Write(string dir, string command, TrainOptions options, TrainResult r, string outDir,
        IReadOnlyDictionary<string, object> data, TextWriter log)
    {
        Directory.CreateDirectory(dir);
        var size = PeftWriter.SizeOnDisk(outDir);
        var report = new
        {
            command,
            method = options.Method,
            settings = options,
            data,
            trainable_parameters = r.TrainableParameters,
            base_parameters = r.BaseParameters,
            base_quantization = r.Quantization,
            resident_weight_bytes = r.WeightBytes,
            peak_working_set_bytes = r.PeakWorkingSetBytes,
            trainable_share = options.TrainsLora || options.Method == Method.PromptTuning
                ? (double)r.TrainableParameters / (r.BaseParameters + r.TrainableParameters)
                : 1.0,
            output_dir = outDir,
            output_bytes = size,
            steps_run = r.Steps.Count == 0 ? 0 : r.Steps[^1].Step,
            total_steps = r.TotalSteps,
            stopped_early = r.StoppedEarly,
            best_step = r.BestStep,
            train_tokens = r.TrainTokens,
            train_seconds = r.TrainSeconds,
            tokens_per_second = r.TrainTokens / Math.Max(r.TrainSeconds, 1e-9),
            stopped_at_time_limit = r.StoppedAtTimeLimit,
            step_seconds = r.StepSeconds,
            step_tokens_per_second = r.StepTokensPerSecond,
            train_flops = r.TrainFlops,
            flop_formula = Flops.Formula,
            achieved_flops_per_second = r.AchievedFlopsPerSecond,
            matmul_peak_flops_per_second = r.Peak?.FlopsPerSecond,
            matmul_peak = r.Peak,
            mfu = r.Mfu,
            matmul_peak_at_end = r.PeakAtEnd,
            mfu_against_end_peak = r.MfuAgainstEndPeak,
            final_train_loss = r.Steps.Count == 0 ? double.NaN : r.Steps.TakeLast(10).Average(s => s.Loss),
            evaluations = r.Evals,
            steps = r.Steps,
        };
        File.WriteAllText(Path.Combine(dir, "report.json"), JsonSerializer.Serialize(report, Json));
        PlotLoss(Path.Combine(dir, "loss.png"), $"{options.Method}: loss", r);
        if (r.Evals.Any(e => e.Scores is not null))
        {
            PlotScores(Path.Combine(dir, "validation.png"), $"{options.Method}: validation ROUGE", r.Evals);
        }

        log.WriteLine($"trainable parameters {r.TrainableParameters:N0} of {r.BaseParameters:N0} base; output {size:N0} bytes in {outDir}; " +
            $"{r.TrainTokens / Math.Max(r.TrainSeconds, 1e-9):F0} tokens/s over {r.TrainSeconds:F1}s " +
            $"({r.StepTokensPerSecond:F0} tokens/s and {r.AchievedFlopsPerSecond / 1e9:F2} GFLOP/s in {r.StepSeconds:F1}s of optimizer steps" +
            (r.Mfu is { } mfu ? $", MFU {100 * mfu:F1}% of {r.Peak!.FlopsPerSecond / 1e9:F1} GFLOP/s" : "") + $"); report in {dir}");
    }

    public static void PlotLoss(string path, string title, TrainResult r)
    {
        var plot = new Plot();
        if (r.Steps.Count > 0)
        {
            var window = Math.Max(1, r.Steps.Count / 50);
            var xs = r.Steps.Select(s => (double)s.Step).ToArray();
            var smooth = r.Steps.Select((s, i) => r.Steps.Skip(Math.Max(0, i - window + 1)).Take(Math.Min(window, i + 1)).Average(x => x.Loss)).ToArray();
            plot.Add.ScatterLine(xs, smooth).LegendText = window > 1 ? $"train (mean of {window} steps)" : "train";
        }

        var evals = r.Evals.Where(e => double.IsFinite(e.ValidationLoss)).ToArray();
        if (evals.Length > 0)
        {
            var v = plot.Add.Scatter(evals.Select(e => (double)e.Step).ToArray(), evals.Select(e => e.ValidationLoss).ToArray());
            v.LegendText = "validation";
        }

        plot.Title(title);
        plot.XLabel("optimizer step");
        plot.YLabel("cross-entropy per token");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 800, 500);
    }

    public static void PlotScores(string path, string title, IReadOnlyList<EvalLog> evals)
    {
        var plot = new Plot();
        var scored = evals.Where(e => e.Scores is not null).ToArray();
        var xs = scored.Select(e => (double)e.Step).ToArray();
        plot.Add.Scatter(xs, scored.Select(e => e.Scores!.Rouge1).ToArray()).LegendText = "ROUGE-1";
        plot.Add.Scatter(xs, scored.Select(e => e.Scores!.Rouge2).ToArray()).LegendText = "ROUGE-2";
        plot.Add.Scatter(xs, scored.Select(e => e.Scores!.RougeL).ToArray()).LegendText = "ROUGE-L";
        plot.Title(title);
        plot.XLabel("optimizer step");
        plot.YLabel("F-measure x 100");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 800, 500);
    }
}
