namespace InferenceHost.Model.Llama;

/// <summary>The seven linear modules of a Llama decoder layer, named as in Hugging Face checkpoints.</summary>
public enum LinearKind
{
    QProj,
    KProj,
    VProj,
    OProj,
    GateProj,
    UpProj,
    DownProj,
}

/// <summary>One linear module of the model: its layer and kind.</summary>
public readonly record struct LinearSite(int Layer, LinearKind Kind)
{
    public static readonly IReadOnlyList<LinearKind> AllKinds = Enum.GetValues<LinearKind>();

    /// <summary>The short module name, e.g. <c>q_proj</c>.</summary>
    public static string ShortName(LinearKind kind) => kind switch
    {
        LinearKind.QProj => "q_proj",
        LinearKind.KProj => "k_proj",
        LinearKind.VProj => "v_proj",
        LinearKind.OProj => "o_proj",
        LinearKind.GateProj => "gate_proj",
        LinearKind.UpProj => "up_proj",
        LinearKind.DownProj => "down_proj",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static LinearKind? ParseShortName(string name) =>
        AllKinds.Cast<LinearKind?>().FirstOrDefault(k => ShortName(k!.Value) == name);

    /// <summary>The module path as in Hugging Face, e.g. <c>model.layers.3.self_attn.q_proj</c>.</summary>
    public string ModulePath => Kind switch
    {
        LinearKind.QProj or LinearKind.KProj or LinearKind.VProj or LinearKind.OProj =>
            $"model.layers.{Layer}.self_attn.{ShortName(Kind)}",
        _ => $"model.layers.{Layer}.mlp.{ShortName(Kind)}",
    };

    public override string ToString() => ModulePath;
}
