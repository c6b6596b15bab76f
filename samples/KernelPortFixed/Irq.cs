using XenPreempt.Annotations;
using static KernelPortFixed.Kernel;

namespace KernelPortFixed;

/// <summary>The ordinary interrupt exit, off the hypercall path.</summary>
public static class Irq
{
    [IrqContext]
    public static void irqentry_exit_to_kernel()
    {
        irqentry_exit_cond_resched(); // XPA0003: honour the boot-time preemption mode
    }
}
