// SPDX-License-Identifier: GPL-2.0-only
// Models: include/linux/kconfig.h (IS_ENABLED) and the preemption-model Kconfig of
// kernel/Kconfig.preempt as of 7dadeaa6e851 (v7.0-rc1). Kconfig options are preprocessor
// symbols here, exactly as the kernel uses #ifdef; this class only reports which were set.
using System.Collections.Generic;

namespace XenPreempt.Kernel;

internal static class Kconfig
{
    public const bool PREEMPTION =
#if CONFIG_PREEMPTION
        true;
#else
        false;
#endif

    public const bool PREEMPT_DYNAMIC =
#if CONFIG_PREEMPT_DYNAMIC
        true;
#else
        false;
#endif

    public static IReadOnlyList<string> enabled()
    {
        var list = new List<string>();
#if CONFIG_PREEMPT_NONE
        list.Add("CONFIG_PREEMPT_NONE");
#endif
#if CONFIG_PREEMPT_VOLUNTARY
        list.Add("CONFIG_PREEMPT_VOLUNTARY");
#endif
#if CONFIG_PREEMPT
        list.Add("CONFIG_PREEMPT");
#endif
#if CONFIG_PREEMPT_LAZY
        list.Add("CONFIG_PREEMPT_LAZY");
#endif
#if CONFIG_PREEMPTION
        list.Add("CONFIG_PREEMPTION");
#endif
#if CONFIG_PREEMPT_DYNAMIC
        list.Add("CONFIG_PREEMPT_DYNAMIC");
#endif
#if CONFIG_HAVE_PREEMPT_DYNAMIC_CALL
        list.Add("CONFIG_HAVE_PREEMPT_DYNAMIC_CALL");
#endif
#if CONFIG_HAVE_PREEMPT_DYNAMIC_KEY
        list.Add("CONFIG_HAVE_PREEMPT_DYNAMIC_KEY");
#endif
#if CONFIG_DEBUG_PREEMPT
        list.Add("CONFIG_DEBUG_PREEMPT");
#endif
#if CONFIG_DEBUG_ATOMIC_SLEEP
        list.Add("CONFIG_DEBUG_ATOMIC_SLEEP");
#endif
#if CONFIG_XEN_PV
        list.Add("CONFIG_XEN_PV");
#endif
#if CONFIG_XEN_DOM0
        list.Add("CONFIG_XEN_DOM0");
#endif
        return list;
    }
}
