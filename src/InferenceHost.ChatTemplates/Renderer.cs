using System.Text;

namespace InferenceHost.ChatTemplates;

/// <summary>Variables visible at one point: a for-loop iteration and a macro call each open a child scope, an if does not.</summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Scope? outer = parent;
    private readonly Dictionary<string, object?> vars = new(StringComparer.Ordinal);

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s.outer)
        {
            if (s.vars.TryGetValue(name, out value))
            {
                return true;
            }
        }

        value = null;
        return false;
    }

    public void Set(string name, object? value) => vars[name] = value;
}

/// <summary>Runs statements: text, output, if, for (with <c>loop</c>, filters, else, break/continue), set, macros.</summary>
internal sealed partial class Renderer(TimeProvider clock)
{
    private const int MaxMacroDepth = 100;

    private int macroDepth;

    private enum Flow { Normal, Break, Continue }

    public TimeProvider Clock { get; } = clock;

    public string Render(IReadOnlyList<Stmt> body, Scope scope)
    {
        var sb = new StringBuilder();
        Execute(body, scope, sb);
        return sb.ToString();
    }

    private Flow Execute(IReadOnlyList<Stmt> body, Scope scope, StringBuilder sb)
    {
        foreach (var stmt in body)
        {
            var flow = Execute(stmt, scope, sb);
            if (flow != Flow.Normal)
            {
                return flow;
            }
        }

        return Flow.Normal;
    }

    private Flow Execute(Stmt stmt, Scope scope, StringBuilder sb)
    {
        switch (stmt)
        {
            case TextStmt t:
                sb.Append(t.Text);
                break;
            case OutputStmt o:
                sb.Append(Py.Str(Evaluate(o.Value, scope)));
                break;
            case IfStmt i:
                foreach (var (condition, body) in i.Branches)
                {
                    if (condition is null || Py.Truthy(Evaluate(condition, scope)))
                    {
                        return Execute(body, scope, sb);
                    }
                }

                break;
            case ForStmt f:
                ExecuteFor(f, scope, sb);
                break;
            case SetStmt s:
                ExecuteSet(s, scope);
                break;
            case SetBlockStmt b:
                scope.Set(b.Target, Render(b.Body, scope));
                break;
            case MacroStmt m:
                scope.Set(m.Name, new Function(m.Name, args => CallMacro(m, scope, args)));
                break;
            case LoopControlStmt c:
                return c.IsBreak ? Flow.Break : Flow.Continue;
        }

        return Flow.Normal;
    }

    private void ExecuteFor(ForStmt f, Scope scope, StringBuilder sb)
    {
        var items = Py.Items(Evaluate(f.Iterable, scope)).ToList();
        if (f.Filter is { } filter)
        {
            items = items.Where(item =>
            {
                var s = new Scope(scope);
                Bind(f.Targets, f.Unpack, item, s, f.At);
                return Py.Truthy(Evaluate(filter, s));
            }).ToList();
        }

        if (items.Count == 0)
        {
            Execute(f.Else, scope, sb);
            return;
        }

        var loop = new LoopInfo(items);
        for (int i = 0; i < items.Count; i++)
        {
            loop.Index0 = i;
            var iteration = new Scope(scope);
            Bind(f.Targets, f.Unpack, items[i], iteration, f.At);
            iteration.Set("loop", loop);
            if (Execute(f.Body, iteration, sb) == Flow.Break)
            {
                break;
            }
        }
    }

    private void ExecuteSet(SetStmt s, Scope scope)
    {
        var value = Evaluate(s.Value, scope);
        if (s.Attribute is null)
        {
            Bind(s.Targets, s.Unpack, value, scope, s.At);
            return;
        }

        if (!scope.TryGet(s.Targets[0], out var target) || target is not Namespace ns)
        {
            throw Fail(s.At, $"cannot assign the attribute '{s.Attribute}': '{s.Targets[0]}' is not a namespace()");
        }

        ns.Attributes[s.Attribute] = value;
    }

    private static void Bind(IReadOnlyList<string> targets, bool unpack, object? value, Scope scope, Pos at)
    {
        if (!unpack)
        {
            scope.Set(targets[0], value);
            return;
        }

        var items = value is string ? null : value as IReadOnlyList<object?>;
        if (items is null || items.Count != targets.Count)
        {
            throw Fail(at, $"cannot unpack {Py.TypeName(value)} {Py.Repr(value)} into {targets.Count} names");
        }

        for (int i = 0; i < targets.Count; i++)
        {
            scope.Set(targets[i], items[i]);
        }
    }

    private string CallMacro(MacroStmt m, Scope definedIn, CallArgs args)
    {
        if (++macroDepth > MaxMacroDepth)
        {
            throw Fail(m.At, $"macro '{m.Name}' calls nest deeper than {MaxMacroDepth}");
        }

        try
        {
            return Invoke(m, definedIn, args);
        }
        finally
        {
            macroDepth--;
        }
    }

    private string Invoke(MacroStmt m, Scope definedIn, CallArgs args)
    {
        if (args.Positional.Count > m.Parameters.Count)
        {
            throw Fail(m.At, $"macro '{m.Name}' takes {m.Parameters.Count} arguments, {args.Positional.Count} given");
        }

        foreach (var name in args.Named.Keys.Where(k => m.Parameters.All(p => p.Name != k)))
        {
            throw Fail(m.At, $"macro '{m.Name}' has no parameter '{name}'");
        }

        var scope = new Scope(definedIn);
        for (int i = 0; i < m.Parameters.Count; i++)
        {
            var (name, fallback) = m.Parameters[i];
            scope.Set(name, args.Has(i, name) ? args.Get(i, name)
                : fallback is null ? new Undefined($"'{name}' is undefined") : Evaluate(fallback, scope));
        }

        return Render(m.Body, scope);
    }

    internal static TemplateRuntimeException Fail(Pos at, string detail) => new($"{at}: {detail}");
}
