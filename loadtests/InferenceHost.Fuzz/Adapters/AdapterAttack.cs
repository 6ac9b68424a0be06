using System.Text.Json;
using System.Text.Json.Nodes;
using InferenceHost.Fuzz.Cases;
using InferenceHost.Fuzz.Send;

namespace InferenceHost.Fuzz.Adapters;

/// <summary>What the server did with one broken adapter.</summary>
public sealed record AdapterResult(string Kind, string Group, string What, Expect Expect, string Route, string Status, double Ms, string? Message, bool Ok, string? Problem);

/// <summary>
/// Writes each broken adapter into the scratch root and loads it through an admin route (the two spellings in
/// turn), timing each answer against a bound. A refused adapter must leave nothing registered; an accepted one
/// (the controls) must generate and unload.
/// </summary>
public static class AdapterAttack
{
    public static IReadOnlyList<BrokenKind> AllKinds { get; } = [.. WeightKinds.All(), .. ConfigKinds.All(), .. FileKinds.All()];

    public static async Task<List<AdapterResult>> RunAsync(HttpSender http, string root, AdapterSource source, IEnumerable<BrokenKind> kinds,
        TimeSpan bound, Action<FuzzCase, Outcome> record, CancellationToken ct)
    {
        var keep = new List<IDisposable>();
        var results = new List<AdapterResult>();
        try
        {
            var i = 0;
            foreach (var kind in kinds)
            {
                results.Add(await LoadOneAsync(http, root, source, kind, i++ % 2 == 0, bound, keep, record, ct));
            }
        }
        finally
        {
            keep.ForEach(k => k.Dispose());
        }

        return results;
    }

    private static async Task<AdapterResult> LoadOneAsync(HttpSender http, string root, AdapterSource source, BrokenKind kind, bool ownRoute,
        TimeSpan bound, List<IDisposable> keep, Action<FuzzCase, Outcome> record, CancellationToken ct)
    {
        var dir = Directory.CreateDirectory(Path.Combine(root, kind.Name)).FullName;
        var workspace = new AdapterWorkspace(root, dir, source, keep);
        var path = kind.Build(workspace);
        var name = "bad-" + kind.Name;
        var (route, body) = ownRoute
            ? (Routes.Adapters, new JsonObject { ["name"] = name, ["path"] = path })
            : (Routes.LoadLora, new JsonObject { ["lora_name"] = name, ["lora_path"] = path });
        var load = new FuzzCase { Family = "broken-adapter", Description = $"{kind.Name}: {kind.What} (files in {dir})", Path = route, Body = new RawBody(body).Bytes() };

        using var during = new CancellationTokenSource();
        var background = kind.During?.Invoke(workspace, during.Token) ?? Task.CompletedTask;
        var outcome = await http.SendAsync(load, ct);
        await during.CancelAsync();
        await background;
        record(load, outcome);

        var problems = new List<string>();
        var code = outcome.Code ?? 0;
        if (outcome.Ms > bound.TotalMilliseconds)
        {
            problems.Add($"answered after {outcome.Ms / 1000:0.0} s (bound {bound.TotalSeconds:0} s)");
        }

        switch (kind.Expect)
        {
            case Expect.Refuse when code is < 400 or >= 500:
                problems.Add(code is >= 200 and < 300 ? "accepted" : $"answered {outcome.Status}, not a 4xx");
                break;
            case Expect.Accept when code is < 200 or >= 300:
                problems.Add($"a valid adapter answered {outcome.Status}");
                break;
            case Expect.NoServerError when outcome.Offends || outcome.Code is null:
                problems.Add($"answered {outcome.Status}");
                break;
        }

        problems.AddRange(await AfterAsync(http, name, code is >= 200 and < 300, record, ct));
        return new AdapterResult(kind.Name, kind.Group, kind.What, kind.Expect, route, outcome.Status, Math.Round(outcome.Ms, 1),
            Message(outcome), problems.Count == 0, problems.Count == 0 ? null : string.Join("; ", problems));
    }

    /// <summary>Accepted: it generates and unloads. Refused: it is not registered.</summary>
    private static async Task<List<string>> AfterAsync(HttpSender http, string name, bool accepted, Action<FuzzCase, Outcome> record, CancellationToken ct)
    {
        var problems = new List<string>();
        if (accepted)
        {
            var generate = new FuzzCase
            {
                Family = "broken-adapter", Description = $"generate with {name}",
                Body = new RawBody(new JsonObject { ["model"] = name, ["prompt"] = "Once upon a time", ["max_tokens"] = 2, ["temperature"] = 0 }).Bytes(),
            };
            var g = await http.SendAsync(generate, ct);
            record(generate, g);
            if (g.Code != 200)
            {
                problems.Add($"generation with it answered {g.Status}");
            }
        }

        var check = new FuzzCase
        {
            Family = "broken-adapter", Description = accepted ? $"unload {name}" : $"{name} is not registered",
            Method = accepted ? "DELETE" : "GET", Path = $"{Routes.Adapters}/{name}", ContentType = null,
        };
        var o = await http.SendAsync(check, ct);
        record(check, o);
        if (accepted ? o.Code != 200 : o.Code != 404)
        {
            problems.Add(accepted ? $"unload answered {o.Status}" : $"still registered after the refusal ({o.Status})");
        }

        return problems;
    }

    /// <summary>The error message of an OpenAI-shaped answer, else the body's start.</summary>
    private static string? Message(Outcome o)
    {
        try
        {
            using var doc = JsonDocument.Parse(o.Excerpt ?? string.Empty);
            var root = doc.RootElement;
            return root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object
                && e.TryGetProperty("message", out var m) ? m.GetString() : o.Excerpt;
        }
        catch (JsonException)
        {
            return o.Problem ?? o.Excerpt;
        }
    }
}
