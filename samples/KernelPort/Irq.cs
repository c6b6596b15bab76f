using XenPreempt.Annotations;
using static KernelPort.Kernel;

namespace KernelPort;

/// <summary>The ordinary interrupt exit, off the hypercall path.</summary>
public static class Irq
{
    [IrqContext]
    public static void irqentry_exit_to_kernel()
    {
        raw_irqentry_exit_cond_resched();
    }
}
