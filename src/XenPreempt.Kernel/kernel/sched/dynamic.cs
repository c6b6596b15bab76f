// SPDX-License-Identifier: GPL-2.0-only
// Models: include/linux/static_call.h (DEFINE_STATIC_CALL, static_call_update),
// include/linux/jump_label.h (static keys), include/linux/sched.h (cond_resched, might_resched),
// include/linux/kernel.h (might_sleep), kernel/sched/core.c (sched_dynamic_update,
// __sched_dynamic_update, sched_dynamic_mode, preempt_dynamic_init, __might_resched checks) —
// Linux v6.13+ (7c70cb94d29c adds the lazy model; 99cf983cc8bc the KEY flavour;
// 4624a14f4daa makes irqentry_exit_cond_resched() itself patchable).
using System;
using System.Runtime.CompilerServices;
using XenPreempt.Annotations;

namespace XenPreempt.Kernel;

/// <summary>A static call: a call site whose target is patched at run time (NULL makes it a no-op).</summary>
public sealed class static_call_key
{
    internal static_call_key(string name, Func<int>? initial) { this.name = name; this.initial = initial; }
    public readonly string name;
    internal readonly Func<int>? initial;
}

/// <summary>A static key: a branch patched at run time.</summary>
public sealed class static_key
{
    internal static_key(string name, bool initial) { this.name = name; this.initial = initial; }
    public readonly string name;
    internal readonly bool initial;
}

public enum preempt_dynamic_mode { preempt_dynamic_undefined = -1, preempt_dynamic_none, preempt_dynamic_voluntary, preempt_dynamic_full, preempt_dynamic_lazy }

public sealed partial class LinuxGuest
{
    internal preempt_dynamic_mode preempt_mode = preempt_dynamic_mode.preempt_dynamic_undefined;
}

public static partial class Linux
{
    public static static_call_key DEFINE_STATIC_CALL(string name, Func<int> func) => new(name, func);
    public static static_call_key DEFINE_STATIC_CALL_NULL(string name) => new(name, null);
    public static static_call_key DEFINE_STATIC_CALL_RET0(string name, Func<int> func) => new(name, func);
    public static static_key DEFINE_STATIC_KEY_TRUE(string name) => new(name, true);
    public static static_key DEFINE_STATIC_KEY_FALSE(string name) => new(name, false);

    public static void static_call_update(static_call_key key, Func<int>? func) => LinuxGuest.This.static_call_targets[key] = func;

    /// <summary>static_call(name)(): calls the current target; a NULL target does nothing.</summary>
    public static int static_call(static_call_key key)
    {
        var g = LinuxGuest.This;
        var target = g.static_call_targets.TryGetValue(key, out var t) ? t : key.initial;
        return target?.Invoke() ?? 0;
    }

    public static void static_key_enable(static_key key) => LinuxGuest.This.static_key_values[key] = true;
    public static void static_key_disable(static_key key) => LinuxGuest.This.static_key_values[key] = false;

    public static bool static_branch_unlikely(static_key key) =>
        LinuxGuest.This.static_key_values.TryGetValue(key, out var v) ? v : key.initial;

    private static int ret0() => 0;

    // The dynamic-preemption call sites (CALL flavour: static calls; KEY flavour: static keys).
    private static readonly static_call_key sc_cond_resched = DEFINE_STATIC_CALL_RET0("cond_resched", __cond_resched);
    private static readonly static_call_key sc_might_resched = DEFINE_STATIC_CALL_RET0("might_resched", __cond_resched);
    private static readonly static_call_key sc_preempt_schedule = DEFINE_STATIC_CALL("preempt_schedule", () => { __preempt_schedule(); return 0; });
    private static readonly static_call_key sc_preempt_schedule_notrace = DEFINE_STATIC_CALL("preempt_schedule_notrace", () => { __preempt_schedule_notrace(); return 0; });
    private static readonly static_call_key sc_irqentry_exit_cond_resched = DEFINE_STATIC_CALL("irqentry_exit_cond_resched", () => { raw_irqentry_exit_cond_resched(); return 0; });
    private static readonly static_key sk_dynamic_cond_resched = DEFINE_STATIC_KEY_TRUE("sk_dynamic_cond_resched");
    private static readonly static_key sk_dynamic_might_resched = DEFINE_STATIC_KEY_TRUE("sk_dynamic_might_resched");
    private static readonly static_key sk_dynamic_preempt_schedule = DEFINE_STATIC_KEY_TRUE("sk_dynamic_preempt_schedule");
    private static readonly static_key sk_dynamic_irqentry_exit_cond_resched = DEFINE_STATIC_KEY_TRUE("sk_dynamic_irqentry_exit_cond_resched");

    /// <summary>_cond_resched(): a no-op in a static full/lazy kernel, patched in a dynamic one.</summary>
    [Patchable(Raw = nameof(__cond_resched))]
    public static int _cond_resched()
    {
#if CONFIG_PREEMPT_DYNAMIC && CONFIG_HAVE_PREEMPT_DYNAMIC_KEY
        if (!static_branch_unlikely(sk_dynamic_cond_resched))
            return 0;
        return __cond_resched();
#elif CONFIG_PREEMPT_DYNAMIC
        return static_call(sc_cond_resched);
#elif !CONFIG_PREEMPTION
        return __cond_resched();
#else
        return 0;
#endif
    }

    /// <summary>cond_resched(): the sleep check, then a reschedule if one is wanted and allowed.</summary>
    [Patchable(Raw = nameof(__cond_resched))]
    public static int cond_resched([CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        __might_sleep_check(file, line, 0);
        return _cond_resched();
    }

    /// <summary>might_resched(): a voluntary preemption point only in the voluntary model.</summary>
    [Patchable(Raw = nameof(__might_resched))]
    public static void might_resched()
    {
#if CONFIG_PREEMPT_DYNAMIC && CONFIG_HAVE_PREEMPT_DYNAMIC_KEY
        if (static_branch_unlikely(sk_dynamic_might_resched))
            __cond_resched();
#elif CONFIG_PREEMPT_DYNAMIC
        static_call(sc_might_resched);
#elif CONFIG_PREEMPT_VOLUNTARY
        __cond_resched();
#endif
    }

    /// <summary>might_sleep(): asserts a context that may sleep, and is a voluntary preemption point.</summary>
    public static void might_sleep([CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        __might_sleep_check(file, line, 0);
        might_resched();
    }

    /// <summary>preempt_schedule(): the reschedule at preempt_enable(); patched to NULL under none/voluntary.</summary>
    [Patchable(Raw = nameof(__preempt_schedule))]
    public static void preempt_schedule()
    {
#if CONFIG_PREEMPT_DYNAMIC && CONFIG_HAVE_PREEMPT_DYNAMIC_KEY
        if (static_branch_unlikely(sk_dynamic_preempt_schedule))
            __preempt_schedule();
#elif CONFIG_PREEMPT_DYNAMIC
        static_call(sc_preempt_schedule);
#elif CONFIG_PREEMPTION
        __preempt_schedule();
#endif
    }

    [Patchable(Raw = nameof(__preempt_schedule_notrace))]
    public static void preempt_schedule_notrace()
    {
#if CONFIG_PREEMPT_DYNAMIC && CONFIG_HAVE_PREEMPT_DYNAMIC_KEY
        if (static_branch_unlikely(sk_dynamic_preempt_schedule))
            __preempt_schedule_notrace();
#elif CONFIG_PREEMPT_DYNAMIC
        static_call(sc_preempt_schedule_notrace);
#elif CONFIG_PREEMPTION
        __preempt_schedule_notrace();
#endif
    }

    /// <summary>irqentry_exit_cond_resched(): since 4624a14f4daa the patchable one.</summary>
    [Patchable(Raw = nameof(raw_irqentry_exit_cond_resched))]
    public static void irqentry_exit_cond_resched()
    {
#if CONFIG_PREEMPT_DYNAMIC && CONFIG_HAVE_PREEMPT_DYNAMIC_KEY
        if (!static_branch_unlikely(sk_dynamic_irqentry_exit_cond_resched))
            return;
        raw_irqentry_exit_cond_resched();
#elif CONFIG_PREEMPT_DYNAMIC
        static_call(sc_irqentry_exit_cond_resched);
#else
        raw_irqentry_exit_cond_resched();
#endif
    }

    /// <summary>
    /// __might_resched()'s check: sleeping is wrong with preemption or IRQs off. Prints the kernel's
    /// two lines. The file is the port file's name (no machine path).
    /// </summary>
    internal static void __might_sleep_check(string file, int line, int preempt_offset)
    {
#if CONFIG_DEBUG_ATOMIC_SLEEP
        var curr = current;
        if (curr.preempt_count == preempt_offset && !irqs_disabled() && !curr.is_idle)
            return;
        printk($"BUG: sleeping function called from invalid context at {System.IO.Path.GetFileName(file)}:{line}");
        printk($"in_atomic(): {(curr.preempt_count != 0 ? 1 : 0)}, irqs_disabled(): {(irqs_disabled() ? 1 : 0)}, non_block: 0, pid: {curr.pid}, name: {curr.comm}");
#endif
    }

    /// <summary>Boot: the mode from preempt= (dynamic kernels), else the Kconfig default.</summary>
    internal static void preempt_dynamic_init(string preempt_param)
    {
#if CONFIG_PREEMPT_DYNAMIC
        var mode = default_preempt_mode();
        if (preempt_param.Length > 0)
        {
            var asked = sched_dynamic_mode(preempt_param);
            if (asked == preempt_dynamic_mode.preempt_dynamic_undefined)
                printk($"Dynamic Preempt: unsupported mode: {preempt_param}");
            else
                mode = asked;
        }
        sched_dynamic_update(mode);
#else
        LinuxGuest.This.preempt_mode = default_preempt_mode();
#endif
    }

    private static preempt_dynamic_mode default_preempt_mode()
    {
#if CONFIG_PREEMPT_LAZY
        return preempt_dynamic_mode.preempt_dynamic_lazy;
#elif CONFIG_PREEMPT
        return preempt_dynamic_mode.preempt_dynamic_full;
#elif CONFIG_PREEMPT_VOLUNTARY
        return preempt_dynamic_mode.preempt_dynamic_voluntary;
#else
        return preempt_dynamic_mode.preempt_dynamic_none;
#endif
    }

    public static preempt_dynamic_mode sched_dynamic_mode(string str) => str switch
    {
        "none" => preempt_dynamic_mode.preempt_dynamic_none,
        "voluntary" => preempt_dynamic_mode.preempt_dynamic_voluntary,
        "full" => preempt_dynamic_mode.preempt_dynamic_full,
        "lazy" => preempt_dynamic_mode.preempt_dynamic_lazy,
        _ => preempt_dynamic_mode.preempt_dynamic_undefined,
    };

    /// <summary>
    /// Repoints every dynamic-preemption call site for <paramref name="mode"/>. As the kernel does,
    /// first enable everything (so no call site is ever in an invalid "zero" state), then disable
    /// per mode.
    /// </summary>
    [NoPreemptAnalysis("the patching itself: binds each dynamic call site to the raw, never-patched target that preempt= selects (the kernel's static_call_update), so the raw calls here are the mechanism XPA0003 describes, not a use of it")]
    public static void sched_dynamic_update(preempt_dynamic_mode mode)
    {
        preempt_dynamic_enable(sc_cond_resched, sk_dynamic_cond_resched, __cond_resched);
        preempt_dynamic_enable(sc_might_resched, sk_dynamic_might_resched, __cond_resched);
        preempt_dynamic_enable(sc_preempt_schedule, sk_dynamic_preempt_schedule, () => { __preempt_schedule(); return 0; });
        preempt_dynamic_enable(sc_preempt_schedule_notrace, sk_dynamic_preempt_schedule, () => { __preempt_schedule_notrace(); return 0; });
        preempt_dynamic_enable(sc_irqentry_exit_cond_resched, sk_dynamic_irqentry_exit_cond_resched, () => { raw_irqentry_exit_cond_resched(); return 0; });

        switch (mode)
        {
            case preempt_dynamic_mode.preempt_dynamic_none:
                preempt_dynamic_disable(sc_might_resched, sk_dynamic_might_resched, ret0);
                preempt_dynamic_disable(sc_preempt_schedule, sk_dynamic_preempt_schedule, null);
                preempt_dynamic_disable(sc_preempt_schedule_notrace, sk_dynamic_preempt_schedule, null);
                preempt_dynamic_disable(sc_irqentry_exit_cond_resched, sk_dynamic_irqentry_exit_cond_resched, null);
                break;
            case preempt_dynamic_mode.preempt_dynamic_voluntary:
                preempt_dynamic_disable(sc_preempt_schedule, sk_dynamic_preempt_schedule, null);
                preempt_dynamic_disable(sc_preempt_schedule_notrace, sk_dynamic_preempt_schedule, null);
                preempt_dynamic_disable(sc_irqentry_exit_cond_resched, sk_dynamic_irqentry_exit_cond_resched, null);
                break;
            case preempt_dynamic_mode.preempt_dynamic_full:
            case preempt_dynamic_mode.preempt_dynamic_lazy:
                preempt_dynamic_disable(sc_cond_resched, sk_dynamic_cond_resched, ret0);
                preempt_dynamic_disable(sc_might_resched, sk_dynamic_might_resched, ret0);
                break;
        }
        printk($"Dynamic Preempt: {mode.ToString()["preempt_dynamic_".Length..]}");
        LinuxGuest.This.preempt_mode = mode;
    }

    private static void preempt_dynamic_enable(static_call_key call, static_key key, Func<int> enabled)
    {
#if CONFIG_HAVE_PREEMPT_DYNAMIC_KEY
        static_key_enable(key);
#else
        static_call_update(call, enabled);
#endif
    }

    private static void preempt_dynamic_disable(static_call_key call, static_key key, Func<int>? disabled)
    {
#if CONFIG_HAVE_PREEMPT_DYNAMIC_KEY
        static_key_disable(key);
#else
        static_call_update(call, disabled);
#endif
    }

    /// <summary>The model the kernel runs under now, as its boot banner says it.</summary>
    public static string preempt_model_str()
    {
        var mode = LinuxGuest.This.preempt_mode.ToString()["preempt_dynamic_".Length..];
        return Kconfig.PREEMPT_DYNAMIC ? $"PREEMPT_DYNAMIC({mode})" : mode;
    }
}
