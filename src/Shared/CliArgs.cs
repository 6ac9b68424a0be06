using System.CommandLine;

namespace InferenceHost.CommandLine;

/// <summary>One option of a verb, declared once: its name (without dashes), its help, and its kind.</summary>
public sealed record CliOption(string Name, string Help, CliOptionKind Kind = CliOptionKind.Value)
{
    public static CliOption Value(string name, string help) => new(name, help);

    public static CliOption Required(string name, string help) => new(name, help, CliOptionKind.Required);

    public static CliOption Flag(string name, string help) => new(name, help, CliOptionKind.Flag);

    public static CliOption Many(string name, string help) => new(name, help, CliOptionKind.Many);
}

public enum CliOptionKind
{
    Value,
    Required,
    Flag,

    /// <summary>May be given more than once (<c>--adapter A --adapter B</c>).</summary>
    Many,
}

/// <summary>
/// A command-line verb: its options, declared once, and what it runs. System.CommandLine parses the command
/// line, rejects unknown options and missing values naming them, and generates the help; the verb reads the
/// values through <see cref="CliArgs"/>. Shared (as a linked source file) by the server's tools and the trainer.
/// </summary>
public sealed record CliVerb(string Name, string Description, IReadOnlyList<CliOption> Options, Func<CliArgs, TextWriter, int> Run)
{
    /// <summary>The System.CommandLine command; usage errors (<see cref="CliException"/>) print as they are with exit code 2.</summary>
    public Command ToCommand(TextWriter stdout, TextWriter stderr, Func<Exception, bool> isUserError)
    {
        var (command, options) = Declare();
        command.SetAction(parse =>
        {
            try
            {
                return Run(Values(parse, options), stdout);
            }
            catch (CliException e)
            {
                stderr.WriteLine($"{Name}: {e.Message}");
                return 2;
            }
            catch (Exception e) when (isUserError(e))
            {
                stderr.WriteLine($"{Name}: error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>Parses <paramref name="args"/> (the options after the verb) as the command line would; usage errors throw <see cref="CliException"/>.</summary>
    public CliArgs Parse(IEnumerable<string> args)
    {
        var (command, options) = Declare();
        var result = command.Parse(args.ToArray());
        return result.Errors.Count > 0 ? throw new CliException(result.Errors[0].Message) : Values(result, options);
    }

    /// <summary>Runs <paramref name="args"/> against these verbs: 0 done, 1 failed, 2 bad usage (with System.CommandLine's message).</summary>
    public static int Invoke(string description, IEnumerable<CliVerb> verbs, string[] args, Func<Exception, bool> isUserError)
    {
        var root = new RootCommand(description);
        foreach (var verb in verbs)
        {
            root.Subcommands.Add(verb.ToCommand(Console.Out, Console.Error, isUserError));
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                Console.Error.WriteLine($"error: {e.Message}");
            }

            return 2;
        }

        return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    private (Command Command, List<(CliOption Spec, Option Option)> Options) Declare()
    {
        var command = new Command(Name, Description);
        var options = Options.Select(o => (Spec: o, Option: Create(o))).ToList();
        options.ForEach(o => command.Options.Add(o.Option));
        return (command, options);
    }

    /// <summary>The options given (not defaulted), by name.</summary>
    private static CliArgs Values(ParseResult parse, List<(CliOption Spec, Option Option)> options)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (spec, option) in options.Where(o => parse.GetResult(o.Option) is { Implicit: false }))
        {
            values[spec.Name] = option switch
            {
                Option<bool> flag => [parse.GetValue(flag) ? "true" : "false"],
                Option<string[]> given => [.. parse.GetValue(given) ?? []],
                _ => [],
            };
        }

        return new CliArgs(values);
    }

    // A value given twice keeps the last (scripts append overrides), as a Many option keeps all of them.
    private static Option Create(CliOption o) => o.Kind == CliOptionKind.Flag
        ? new Option<bool>("--" + o.Name) { Description = o.Help }
        : new Option<string[]>("--" + o.Name) { Description = o.Help, Arity = ArgumentArity.OneOrMore, Required = o.Kind == CliOptionKind.Required };
}

/// <summary>A verb's option values as given, with typed reads whose errors name the option.</summary>
public sealed class CliArgs
{
    private readonly IReadOnlyDictionary<string, List<string>> values;

    public CliArgs(IReadOnlyDictionary<string, List<string>> values) => this.values = values;

    public string? Get(string name) => values.TryGetValue(name, out var v) && v.Count > 0 ? v[^1] : null;

    public IReadOnlyList<string> GetAll(string name) => values.TryGetValue(name, out var v) ? v : [];

    public string Require(string name) => Get(name) ?? throw new CliException($"option --{name} is required");

    public bool Flag(string name) => Get(name) is { } v && v != "false";

    public int Int(string name, int fallback) => Number(name, fallback, int.TryParse);

    public double Double(string name, double fallback) =>
        Number(name, fallback, (string s, out double d) => double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out d));

    public IReadOnlyList<string> List(string name, string fallback) =>
        (Get(name) ?? fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public long? Long(string name) => Get(name) is { } s ? (long.TryParse(s, out var v) ? v : throw new CliException($"--{name}: '{s}' is not an integer")) : null;

    private delegate bool TryParse<T>(string s, out T value);

    private T Number<T>(string name, T fallback, TryParse<T> parse) =>
        Get(name) is { } s ? (parse(s, out var v) ? v : throw new CliException($"--{name}: '{s}' is not a valid number")) : fallback;
}

/// <summary>A command-line usage error: printed as it is, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);
