using InferenceHost.LoadTests.Cli;

namespace InferenceHost.LoadTests.Traffic;

/// <summary>
/// Chooses which adapter each request uses. <c>single</c>: always the first; <c>uniform</c>: each equally likely;
/// <c>skewed</c>: Zipf / power law, adapter i (0-based) has weight 1/(i+1)^s; <c>distinct</c>: cycles through
/// the list so consecutive requests never share an adapter (while N &gt; 1).
/// With a base fraction p, a request goes to the base model (null) with probability p.
/// </summary>
public sealed class AdapterPicker
{
    private readonly IReadOnlyList<string> _names;
    private readonly Popularity _popularity;
    private readonly double _baseFraction;
    private readonly Random _random;
    private readonly double[] _cdf;
    private int _next;

    public AdapterPicker(IReadOnlyList<string> names, Popularity popularity, double zipfExponent, double baseFraction, Random random)
    {
        _names = names;
        _popularity = popularity;
        _baseFraction = baseFraction;
        _random = random;
        _cdf = popularity == Popularity.Skewed ? ZipfCdf(names.Count, zipfExponent) : [];
    }

    public static double[] ZipfCdf(int n, double exponent)
    {
        var cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++)
            cdf[i] = sum += 1.0 / Math.Pow(i + 1, exponent);
        for (int i = 0; i < n; i++)
            cdf[i] /= sum;
        return cdf;
    }

    /// <summary>The adapter name, or null for a base-model request.</summary>
    public string? Next()
    {
        if (_names.Count == 0 || (_baseFraction > 0 && _random.NextDouble() < _baseFraction))
            return null;
        return _popularity switch
        {
            Popularity.Single => _names[0],
            Popularity.Uniform => _names[_random.Next(_names.Count)],
            Popularity.Distinct => _names[_next++ % _names.Count],
            Popularity.Skewed => _names[Math.Min(_names.Count - 1, LowerBound(_cdf, _random.NextDouble()))],
            _ => throw new InvalidOperationException(_popularity.ToString()),
        };
    }

    private static int LowerBound(double[] cdf, double u)
    {
        int i = Array.BinarySearch(cdf, u);
        return i >= 0 ? i : ~i;
    }
}
