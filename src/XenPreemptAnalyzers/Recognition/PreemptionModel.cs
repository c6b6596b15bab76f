using System;

namespace XenPreemptAnalyzers.Recognition;

/// <summary>The kernel's preemption model (Kconfig <c>PREEMPT_*</c>), which decides where a task can be switched.</summary>
internal enum PreemptionModel
{
    None,
    Voluntary,
    Full,
    Lazy,
    /// <summary><c>PREEMPT_DYNAMIC</c>: any of the four modes, chosen at boot or run time. The default.</summary>
    Dynamic,
}

/// <summary>The run-time modes a kernel can be in; a static model has one, <c>dynamic</c> has all four.</summary>
[Flags]
internal enum PreemptionModes
{
    Nothing = 0,
    None = 1,
    Voluntary = 2,
    Full = 4,
    Lazy = 8,
    All = None | Voluntary | Full | Lazy,
}

/// <summary>
/// Which family of dynamic-preemption patching a call belongs to (docs/configuration.md, the preemption model).
/// </summary>
internal enum PatchFamily
{
    /// <summary>Not patchable.</summary>
    NotPatchable,
    /// <summary>
    /// <c>irqentry_exit_cond_resched</c>, <c>preempt_schedule*</c>: a static call left NULL unless the
    /// dynamic mode is full or lazy, so a no-op in none/voluntary — but only under <c>PREEMPT_DYNAMIC</c>.
    /// </summary>
    IrqExitReschedule,
    /// <summary><c>cond_resched</c>, <c>might_resched</c>: a no-op wherever the kernel preempts by itself (full, lazy).</summary>
    VoluntaryReschedule,
}

/// <summary>The facts of the preemption-model table (docs/configuration.md), in one place.</summary>
internal static class PreemptionModelFacts
{
    public static PreemptionModes PossibleModes(PreemptionModel model) => model switch
    {
        PreemptionModel.None => PreemptionModes.None,
        PreemptionModel.Voluntary => PreemptionModes.Voluntary,
        PreemptionModel.Full => PreemptionModes.Full,
        PreemptionModel.Lazy => PreemptionModes.Lazy,
        _ => PreemptionModes.All,
    };

    /// <summary>Can the task be preempted at any instruction where preemption, migration and IRQs are enabled?</summary>
    public static bool HasInvoluntaryPreemption(PreemptionModel model) =>
        (PossibleModes(model) & (PreemptionModes.Full | PreemptionModes.Lazy)) != 0;

    /// <summary>The modes in which a call of <paramref name="family"/> does nothing, under <paramref name="model"/>.</summary>
    public static PreemptionModes NoOpModes(PatchFamily family, PreemptionModel model) => family switch
    {
        // Static none/voluntary kernels compile irqentry_exit_cond_resched as the raw function.
        PatchFamily.IrqExitReschedule => model == PreemptionModel.Dynamic
            ? PreemptionModes.None | PreemptionModes.Voluntary
            : PreemptionModes.Nothing,
        // cond_resched()/might_resched() compile to nothing in static full/lazy kernels and are patched out in dynamic ones.
        PatchFamily.VoluntaryReschedule => PossibleModes(model) & (PreemptionModes.Full | PreemptionModes.Lazy),
        _ => PreemptionModes.Nothing,
    };

    /// <summary>"none, voluntary" — the spelling used in messages.</summary>
    public static string Describe(PreemptionModes modes)
    {
        var names = new System.Collections.Generic.List<string>(4);
        if ((modes & PreemptionModes.None) != 0) names.Add("none");
        if ((modes & PreemptionModes.Voluntary) != 0) names.Add("voluntary");
        if ((modes & PreemptionModes.Full) != 0) names.Add("full");
        if ((modes & PreemptionModes.Lazy) != 0) names.Add("lazy");
        return string.Join(", ", names);
    }

    public static string Spell(PreemptionModel model) => model switch
    {
        PreemptionModel.None => "none",
        PreemptionModel.Voluntary => "voluntary",
        PreemptionModel.Full => "full",
        PreemptionModel.Lazy => "lazy",
        _ => "dynamic",
    };

    public static bool TryParse(string? text, out PreemptionModel model)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "none": model = PreemptionModel.None; return true;
            case "voluntary": model = PreemptionModel.Voluntary; return true;
            case "full": model = PreemptionModel.Full; return true;
            case "lazy": model = PreemptionModel.Lazy; return true;
            case "dynamic": model = PreemptionModel.Dynamic; return true;
            default: model = PreemptionModel.Dynamic; return false;
        }
    }

    /// <summary>Kconfig symbols in the order docs/configuration.md resolves them: the first one defined wins.</summary>
    public static readonly (string Symbol, PreemptionModel Model)[] PreprocessorSymbols =
    {
        ("CONFIG_PREEMPT_DYNAMIC", PreemptionModel.Dynamic),
        ("CONFIG_PREEMPT_LAZY", PreemptionModel.Lazy),
        ("CONFIG_PREEMPT", PreemptionModel.Full),
        ("CONFIG_PREEMPT_VOLUNTARY", PreemptionModel.Voluntary),
        ("CONFIG_PREEMPT_NONE", PreemptionModel.None),
    };
}
