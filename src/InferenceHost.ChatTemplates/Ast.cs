namespace InferenceHost.ChatTemplates;

/// <summary>Where a node starts in the template (1-based), for error messages.</summary>
internal readonly record struct Pos(int Line, int Column)
{
    public override string ToString() => $"line {Line}, column {Column}";
}

// ---- statements ----
internal abstract record Stmt(Pos At);

internal sealed record TextStmt(Pos At, string Text) : Stmt(At);

internal sealed record OutputStmt(Pos At, Expr Value) : Stmt(At);

internal sealed record IfStmt(Pos At, IReadOnlyList<(Expr? Condition, IReadOnlyList<Stmt> Body)> Branches) : Stmt(At);

internal sealed record ForStmt(Pos At, IReadOnlyList<string> Targets, bool Unpack, Expr Iterable, Expr? Filter,
    IReadOnlyList<Stmt> Body, IReadOnlyList<Stmt> Else) : Stmt(At);

/// <summary><c>set a = ...</c>, <c>set a, b = ...</c> or <c>set ns.attr = ...</c> (<see cref="Attribute"/> set).</summary>
internal sealed record SetStmt(Pos At, IReadOnlyList<string> Targets, bool Unpack, string? Attribute, Expr Value) : Stmt(At);

/// <summary><c>{% set name %}body{% endset %}</c>.</summary>
internal sealed record SetBlockStmt(Pos At, string Target, IReadOnlyList<Stmt> Body) : Stmt(At);

internal sealed record MacroStmt(Pos At, string Name, IReadOnlyList<(string Name, Expr? Default)> Parameters, IReadOnlyList<Stmt> Body) : Stmt(At);

internal sealed record LoopControlStmt(Pos At, bool IsBreak) : Stmt(At);

// ---- expressions ----
internal abstract record Expr(Pos At);

internal sealed record LiteralExpr(Pos At, object? Value) : Expr(At);

internal sealed record NameExpr(Pos At, string Name) : Expr(At);

internal sealed record ListExpr(Pos At, IReadOnlyList<Expr> Items, bool IsTuple) : Expr(At);

internal sealed record DictExpr(Pos At, IReadOnlyList<(Expr Key, Expr Value)> Items) : Expr(At);

internal sealed record AttrExpr(Pos At, Expr Target, string Name) : Expr(At);

internal sealed record ItemExpr(Pos At, Expr Target, Expr Key) : Expr(At);

internal sealed record SliceExpr(Pos At, Expr Target, Expr? Start, Expr? Stop, Expr? Step) : Expr(At);

internal sealed record Args(IReadOnlyList<Expr> Positional, IReadOnlyList<(string Name, Expr Value)> Named)
{
    public static Args None { get; } = new([], []);
}

internal sealed record CallExpr(Pos At, Expr Callee, Args Args) : Expr(At);

internal sealed record FilterExpr(Pos At, Expr Target, string Name, Args Args) : Expr(At);

internal sealed record TestExpr(Pos At, Expr Target, string Name, Args Args, bool Negated) : Expr(At);

/// <summary>Unary <c>-</c>, <c>+</c> and <c>not</c>.</summary>
internal sealed record UnaryExpr(Pos At, string Op, Expr Operand) : Expr(At);

/// <summary>Arithmetic, <c>~</c>, <c>and</c>, <c>or</c>.</summary>
internal sealed record BinaryExpr(Pos At, string Op, Expr Left, Expr Right) : Expr(At);

/// <summary>A chain <c>a &lt; b == c</c>, <c>x in y</c>, <c>x not in y</c>.</summary>
internal sealed record CompareExpr(Pos At, Expr First, IReadOnlyList<(string Op, Expr Operand)> Rest) : Expr(At);

internal sealed record CondExpr(Pos At, Expr Condition, Expr Then, Expr? Else) : Expr(At);
