namespace InferenceHost.ChatTemplates;

/// <summary>Python's arithmetic, concatenation and comparison operators on template values.</summary>
internal static class Operators
{
    /// <summary>Returns <paramref name="v"/>, or fails with the Undefined's own message (using Undefined is an error).</summary>
    public static object? Defined(object? v) => v is Undefined u ? throw new TemplateRuntimeException(u.Description) : v;

    public static TemplateRuntimeException Unsupported(string op, object? a, object? b) =>
        a is Undefined || b is Undefined
            ? new TemplateRuntimeException(((a as Undefined) ?? (Undefined)b!).Description)
            : new TemplateRuntimeException($"unsupported operand type(s) for {op}: '{Py.TypeName(a)}' and '{Py.TypeName(b)}'");

    public static TemplateRuntimeException UnsupportedUnary(string op, object? a) =>
        a is Undefined u ? new TemplateRuntimeException(u.Description) : new TemplateRuntimeException($"bad operand type for unary {op}: '{Py.TypeName(a)}'");

    public static object? Binary(string op, object? a, object? b)
    {
        if (op == "~")
        {
            return Py.Str(a) + Py.Str(b);
        }

        if (Py.IsNumber(a) && Py.IsNumber(b))
        {
            return a is double || b is double || op == "/" ? Float(op, Py.ToDouble(a), Py.ToDouble(b)) : Int(op, Py.ToLong(a), Py.ToLong(b));
        }

        return (op, a, b) switch
        {
            ("+", string x, string y) => x + y,
            ("+", List<object?> x, List<object?> y) => x.Concat(y).ToList(),
            ("+", object?[] x, object?[] y) => x.Concat(y).ToArray(),
            ("*", string x, long or bool) => string.Concat(Enumerable.Repeat(x, Repeats(b))),
            ("*", List<object?> x, long or bool) => Enumerable.Repeat(x, Repeats(b)).SelectMany(l => l).ToList(),
            ("%", string, _) => throw new TemplateRuntimeException("string formatting with % is not supported"),
            _ => throw Unsupported(op, a, b),
        };
    }

    // Arms are cast to object: a switch of long and double arms would otherwise make every result a double.
    private static int Repeats(object? count) => Py.ToLong(count) switch
    {
        < 0 => 0,
        > 1_000_000 => throw new TemplateRuntimeException("repeating a sequence more than 1000000 times is not supported"),
        var n => (int)n,
    };

    private static object Int(string op, long a, long b) => op switch
    {
        "+" => (object)(a + b),
        "-" => a - b,
        "*" => a * b,
        "//" => b == 0 ? throw DivisionByZero() : FloorDiv(a, b),
        "%" => b == 0 ? throw DivisionByZero() : ((a % b) + b) % b,
        "**" when b >= 0 => (long)Math.Pow(a, b),
        "**" => Math.Pow(a, b),
        _ => throw new TemplateRuntimeException($"unknown operator {op}"),
    };

    private static long FloorDiv(long a, long b)
    {
        long q = a / b;
        return (a % b != 0) && ((a < 0) != (b < 0)) ? q - 1 : q;
    }

    private static object Float(string op, double a, double b) => op switch
    {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        "/" => b == 0 ? throw DivisionByZero() : a / b,
        "//" => b == 0 ? throw DivisionByZero() : Math.Floor(a / b),
        "%" => b == 0 ? throw DivisionByZero() : a - (Math.Floor(a / b) * b),
        "**" => Math.Pow(a, b),
        _ => throw new TemplateRuntimeException($"unknown operator {op}"),
    };

    private static TemplateRuntimeException DivisionByZero() => new("division by zero");

    public static bool Compare(string op, object? a, object? b) => op switch
    {
        "==" => Py.Equals(a, b),
        "!=" => !Py.Equals(a, b),
        "in" => Py.Contains(b, a),
        "not in" => !Py.Contains(b, a),
        _ when a is Undefined || b is Undefined => throw Unsupported(op, a, b),
        "<" => Py.Compare(a, b) < 0,
        "<=" => Py.Compare(a, b) <= 0,
        ">" => Py.Compare(a, b) > 0,
        ">=" => Py.Compare(a, b) >= 0,
        _ => throw new TemplateRuntimeException($"unknown operator {op}"),
    };
}
