namespace InferenceHost.Trainer.Training;

/// <summary>Linear warm-up from 0, then cosine or linear decay to <c>min_ratio · peak</c> at the last step.</summary>
public static class LearningRate
{
    public static double At(int step, int totalSteps, TrainOptions o)
    {
        var peak = o.LearningRate;
        if (step < o.WarmupSteps)
        {
            return peak * (step + 1) / o.WarmupSteps;
        }

        var decaySteps = Math.Max(1, totalSteps - o.WarmupSteps);
        var progress = Math.Clamp((double)(step - o.WarmupSteps) / decaySteps, 0, 1);
        var floor = peak * o.MinLearningRateRatio;
        return o.Schedule switch
        {
            Schedule.Cosine => floor + ((peak - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress))),
            Schedule.Linear => floor + ((peak - floor) * (1 - progress)),
            _ => peak,
        };
    }
}
