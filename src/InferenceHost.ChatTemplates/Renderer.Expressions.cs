namespace InferenceHost.ChatTemplates;

/// <summary>Evaluates expressions with Jinja's semantics: missing names, keys and attributes are Undefined.</summary>
internal sealed partial class Renderer
{
    public object? Evaluate(Expr expr, Scope scope)
    {
        try
        {
            return expr switch
            {
                LiteralExpr l => l.Value,
                NameExpr n => scope.TryGet(n.Name, out var v) ? v : new Undefined($"'{n.Name}' is undefined"),
                ListExpr l when l.IsTuple => l.Items.Select(i => Evaluate(i, scope)).ToArray(),
                ListExpr l => l.Items.Select(i => Evaluate(i, scope)).ToList(),
                DictExpr d => Dict(d, scope),
                AttrExpr a => GetAttr(Evaluate(a.Target, scope), a.Name),
                ItemExpr i => GetItem(Evaluate(i.Target, scope), Evaluate(i.Key, scope)),
                SliceExpr s => Slice(Evaluate(s.Target, scope), Index(s.Start, scope), Index(s.Stop, scope), Index(s.Step, scope)),
                CallExpr c => Call(c, scope),
                FilterExpr f => Filters.Apply(f.Name, Evaluate(f.Target, scope), Arguments(f.Args, scope), this),
                TestExpr t => Tests.Apply(t.Name, Evaluate(t.Target, scope), Arguments(t.Args, scope)) != t.Negated,
                UnaryExpr u => Unary(u.Op, Evaluate(u.Operand, scope)),
                BinaryExpr { Op: "and" or "or" } b => Logical(b, scope),
                BinaryExpr b => Operators.Binary(b.Op, Evaluate(b.Left, scope), Evaluate(b.Right, scope)),
                CompareExpr c => Compare(c, scope),
                CondExpr c => Py.Truthy(Evaluate(c.Condition, scope)) ? Evaluate(c.Then, scope)
                    : c.Else is null ? new Undefined("the conditional expression has no else") : Evaluate(c.Else, scope),
                _ => throw new InvalidOperationException(expr.GetType().Name),
            };
        }
        catch (TemplateRuntimeException e) when (e is not TemplateRaisedException && !e.Message.StartsWith("line ", StringComparison.Ordinal))
        {
            throw Fail(expr.At, e.Message);
        }
    }

    // Python's "a and b" is a when a is false, else b; "a or b" is a when a is true, else b.
    private object? Logical(BinaryExpr b, Scope scope)
    {
        var left = Evaluate(b.Left, scope);
        return Py.Truthy(left) == (b.Op == "or") ? left : Evaluate(b.Right, scope);
    }

    private OrderedDictionary<string, object?> Dict(DictExpr d, Scope scope)
    {
        var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in d.Items)
        {
            dict[Evaluate(key, scope) as string ?? throw Fail(key.At, "dict keys must be strings")] = Evaluate(value, scope);
        }

        return dict;
    }

    private object? Compare(CompareExpr c, Scope scope)
    {
        var left = Evaluate(c.First, scope);
        foreach (var (op, operand) in c.Rest)
        {
            var right = Evaluate(operand, scope);
            if (!Operators.Compare(op, left, right))
            {
                return false;
            }

            left = right;
        }

        return true;
    }

    private static object? Unary(string op, object? v) => op switch
    {
        "not" => !Py.Truthy(v),
        "-" when v is long l => -l,
        "-" when v is bool b => b ? -1L : 0L,
        "-" when v is double d => -d,
        "+" when Py.IsNumber(v) => v is bool b ? (b ? 1L : 0L) : v,
        _ => throw Operators.UnsupportedUnary(op, v),
    };

    public CallArgs Arguments(Args args, Scope scope) => args.Positional.Count == 0 && args.Named.Count == 0
        ? CallArgs.Empty
        : new CallArgs(args.Positional.Select(a => Evaluate(a, scope)).ToList(),
            args.Named.ToDictionary(n => n.Name, n => Evaluate(n.Value, scope), StringComparer.Ordinal));

    private object? Call(CallExpr c, Scope scope)
    {
        if (c.Callee is AttrExpr a)
        {
            var target = Evaluate(a.Target, scope);
            return Methods.Call(Operators.Defined(target), a.Name, Arguments(c.Args, scope));
        }

        var callee = Evaluate(c.Callee, scope);
        return callee is Function f
            ? f.Invoke(Arguments(c.Args, scope))
            : throw new TemplateRuntimeException(callee is Undefined u ? u.Description : $"'{Py.TypeName(callee)}' object is not callable");
    }

    /// <summary><c>obj.name</c>: a dict key, namespace or loop attribute; anything missing is Undefined.</summary>
    public static object? GetAttr(object? obj, string name) => Operators.Defined(obj) switch
    {
        OrderedDictionary<string, object?> d => d.TryGetValue(name, out var v) ? v : new Undefined($"'dict object' has no attribute '{name}'"),
        Namespace n => n.Attributes.TryGetValue(name, out var v) ? v : new Undefined($"'namespace' has no attribute '{name}'"),
        LoopInfo loop => loop.Get(name),
        _ => new Undefined($"'{Py.TypeName(obj)} object' has no attribute '{name}'"),
    };

    /// <summary><c>obj[key]</c>: negative indices count from the end; a missing index or key is Undefined.</summary>
    public static object? GetItem(object? obj, object? key)
    {
        obj = Operators.Defined(obj);
        if (key is string name && obj is not string)
        {
            return GetAttr(obj, name);
        }

        if (key is long or bool && obj is IReadOnlyList<object?> or string)
        {
            var items = obj as IReadOnlyList<object?> ?? Py.Items(obj);
            long i = Py.ToLong(key);
            i = i < 0 ? i + items.Count : i;
            return i >= 0 && i < items.Count ? items[(int)i] : new Undefined($"index {Py.ToLong(key)} is out of range");
        }

        return new Undefined($"'{Py.TypeName(obj)} object' has no item {Py.Repr(key)}");
    }

    private long? Index(Expr? e, Scope scope) => e is null ? null : Evaluate(e, scope) switch
    {
        null => null,
        var v when v is long or bool => Py.ToLong(v),
        var v => throw new TemplateRuntimeException($"slice indices must be integers or None, not {Py.TypeName(v)}"),
    };

    /// <summary>Python slicing of lists, tuples and strings, <c>[::-1]</c> included.</summary>
    public static object? Slice(object? obj, long? start, long? stop, long? step)
    {
        obj = Operators.Defined(obj);
        var items = obj is string s ? Py.Runes(s).Cast<object?>().ToList() : obj as IReadOnlyList<object?>
            ?? throw new TemplateRuntimeException($"'{Py.TypeName(obj)}' object is not subscriptable");
        long n = items.Count, by = step ?? 1;
        if (by == 0)
        {
            throw new TemplateRuntimeException("slice step cannot be zero");
        }

        long Clamp(long? v, long fallback, long low, long high) =>
            v is not { } x ? fallback : Math.Clamp(x < 0 ? x + n : x, low, high);
        long from = by > 0 ? Clamp(start, 0, 0, n) : Clamp(start, n - 1, -1, n - 1);
        long to = by > 0 ? Clamp(stop, n, 0, n) : Clamp(stop, -1, -1, n - 1);
        var picked = new List<object?>();
        for (long i = from; by > 0 ? i < to : i > to; i += by)
        {
            picked.Add(items[(int)i]);
        }

        return obj switch
        {
            string => string.Concat(picked.Cast<string>()),
            object?[] => picked.ToArray(),
            _ => picked,
        };
    }
}
