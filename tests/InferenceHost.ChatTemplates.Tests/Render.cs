using System.Text.Json;

namespace InferenceHost.ChatTemplates.Tests;

/// <summary>Test helpers: compile and render with variables given as a JSON object.</summary>
internal static class Render
{
    public static string Of(string template, string variablesJson = "{}", TimeProvider? clock = null)
    {
        using var doc = JsonDocument.Parse(variablesJson);
        var vars = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
        return JinjaTemplate.Compile(template).Render(vars, clock);
    }

    public static string File(string name, string variablesJson, TimeProvider? clock = null) =>
        Of(Source(name), variablesJson, clock);

    public static string Source(string name) => System.IO.File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Templates", name));

    public static TemplateSyntaxException SyntaxError(string template) =>
        Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Compile(template));
}

/// <summary>A clock fixed at one local time, for strftime_now.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now.ToUniversalTime();

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.CreateCustomTimeZone("fixed", now.Offset, "fixed", "fixed");
}
