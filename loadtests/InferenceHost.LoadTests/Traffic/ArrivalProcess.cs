namespace InferenceHost.LoadTests.Traffic;

/// <summary>
/// Inter-arrival times for open-loop traffic, as <c>vllm bench serve</c> draws them: gamma distributed with
/// shape = burstiness and mean 1/rate. Burstiness 1 is a Poisson process; below 1 is burstier, above 1 smoother
/// (the coefficient of variation is 1/sqrt(burstiness)). An infinite rate sends everything at time zero.
/// </summary>
public sealed class ArrivalProcess(double requestRate, double burstiness, Random random)
{
    public double NextGapSeconds()
    {
        if (double.IsPositiveInfinity(requestRate))
            return 0;
        double scale = 1.0 / (requestRate * burstiness);
        return Gamma(random, burstiness) * scale;
    }

    /// <summary>Arrival offsets (seconds from the start) of the first <paramref name="count"/> requests.</summary>
    public IEnumerable<double> Offsets(int count)
    {
        double t = 0;
        for (int i = 0; i < count; i++)
        {
            t += NextGapSeconds();
            yield return t;
        }
    }

    /// <summary>Gamma(shape, 1) by Marsaglia and Tsang; shapes below 1 use the boost Gamma(k+1)·U^(1/k).</summary>
    public static double Gamma(Random random, double shape)
    {
        if (shape < 1)
        {
            double u = 1.0 - random.NextDouble();
            return Gamma(random, shape + 1) * Math.Pow(u, 1.0 / shape);
        }
        double d = shape - 1.0 / 3.0;
        double c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Normal(random);
                v = 1.0 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = 1.0 - random.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v)))
                return d * v;
        }
    }

    private static double Normal(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
