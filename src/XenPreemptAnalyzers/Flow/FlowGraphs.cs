// SPDX-License-Identifier: MIT
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace XenPreemptAnalyzers.Flow;

/// <summary>The graphs a body's graph leads to: each local function's and each anonymous function's is analysed on its own.</summary>
internal static class FlowGraphs
{
    /// <summary>
    /// The anonymous functions (lambdas, anonymous methods, a query's implicit lambdas) whose graphs hang off
    /// <paramref name="graph"/>: every operation of every block, then its branch value, in pre-order — the order
    /// <c>DescendantsAndSelf</c> gives — walked with one explicit stack instead of an iterator per operation tree
    /// (the walk used to allocate more than the engine on kernel-style code).
    /// </summary>
    public static List<IFlowAnonymousFunctionOperation> AnonymousFunctions(ControlFlowGraph graph)
    {
        var found = new List<IFlowAnonymousFunctionOperation>();
        var pending = new Stack<IOperation.OperationList.Enumerator>();
        foreach (var block in graph.Blocks)
        {
            foreach (var operation in block.Operations)
                Collect(operation, pending, found);
            if (block.BranchValue is { } branchValue)
                Collect(branchValue, pending, found);
        }
        return found;
    }

    private static void Collect(IOperation root, Stack<IOperation.OperationList.Enumerator> pending, List<IFlowAnonymousFunctionOperation> found)
    {
        if (root is IFlowAnonymousFunctionOperation rootFunction)
            found.Add(rootFunction);
        pending.Push(root.ChildOperations.GetEnumerator());
        while (pending.Count > 0)
        {
            var children = pending.Pop();
            if (!children.MoveNext())
                continue;
            var current = children.Current;
            pending.Push(children);
            if (current is IFlowAnonymousFunctionOperation function)
                found.Add(function);
            pending.Push(current.ChildOperations.GetEnumerator());
        }
    }
}
