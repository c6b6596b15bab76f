// SPDX-License-Identifier: MIT
using Xunit;

namespace XenPreemptAnalyzers.Tests.Infrastructure;

/// <summary>Every value of <c>xen_preempt.preemption_model</c>: for theories that must hold under each model.</summary>
public static class PreemptionModels
{
    public static TheoryData<string> All => new() { "none", "voluntary", "full", "lazy", "dynamic" };
}
