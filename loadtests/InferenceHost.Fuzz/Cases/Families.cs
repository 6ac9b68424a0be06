namespace InferenceHost.Fuzz.Cases;

/// <summary>Every request family, by name; <see cref="Generator"/> draws from them with one seeded random source.</summary>
public static class Families
{
    public delegate FuzzCase Make(Random r, FuzzContext c, string authorization);

    public static readonly IReadOnlyList<(string Name, Make Make)> All =
    [
        ("random-bytes", (r, c, _) => RequestFamilies.RandomBytes(r, c)),
        ("truncation", (r, c, _) => RequestFamilies.Truncation(r, c)),
        ("wrong-types", (r, c, _) => FieldFamilies.WrongType(r, c)),
        ("numeric-extremes", (r, c, _) => FieldFamilies.NumericExtreme(r, c)),
        ("huge-n-max-tokens", (r, c, _) => FieldFamilies.HugeCounts(r, c)),
        ("prompt-lists", (r, c, _) => ContentFamilies.PromptList(r, c)),
        ("token-ids", (r, c, _) => ContentFamilies.TokenIds(r, c)),
        ("deep-nesting", (r, c, _) => ContentFamilies.DeepNesting(r, c)),
        ("long-stops", (r, c, _) => ContentFamilies.LongStop(r, c)),
        ("invalid-utf8", (r, c, _) => ContentFamilies.InvalidUtf8(r, c)),
        ("surrogates", (r, c, _) => ContentFamilies.Surrogate(r, c)),
        ("nul-bytes", (r, c, _) => ContentFamilies.Nul(r, c)),
        ("duplicate-keys", (r, c, _) => FieldFamilies.DuplicateKey(r, c)),
        ("content-types", (r, c, _) => RequestFamilies.ContentType(r, c)),
        ("logprobs", (r, c, _) => ContentFamilies.Logprobs(r, c)),
        ("unknown-fields", (r, c, _) => FieldFamilies.UnknownField(r, c)),
        ("adapters-field", (r, c, _) => FieldFamilies.AdaptersField(r, c)),
        ("sampling-extremes", (r, c, _) => FieldFamilies.SamplingExtreme(r, c)),
        ("messages", (r, c, _) => ContentFamilies.Messages(r, c)),
        ("auth", (r, c, _) => RequestFamilies.Auth(r, c)),
        ("methods-routes", (r, c, _) => RequestFamilies.Methods(r, c)),
        ("admin", (r, c, _) => RequestFamilies.Admin(r, c)),
        ("http-framing", FramingFamily.Generate),
    ];

    public static IReadOnlyList<string> Names => All.Select(f => f.Name).ToArray();

    /// <summary>The <paramref name="count"/> cases of a seed: the same seed, context and families give the same cases.</summary>
    public static IEnumerable<FuzzCase> Generator(int seed, int count, FuzzContext context, string authorization, IReadOnlyCollection<string>? only = null)
    {
        var families = only is { Count: > 0 } ? All.Where(f => only.Contains(f.Name)).ToArray() : All.ToArray();
        if (families.Length == 0)
        {
            throw new ArgumentException($"no family matches; known: {string.Join(", ", Names)}", nameof(only));
        }

        var r = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var (_, make) = families[r.Next(families.Length)];
            yield return make(r, context, authorization);
        }
    }
}
