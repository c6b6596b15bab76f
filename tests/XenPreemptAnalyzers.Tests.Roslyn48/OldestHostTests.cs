// SPDX-License-Identifier: MIT
using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace XenPreemptAnalyzers.Tests.Roslyn48;

/// <summary>This project's tests really run on the oldest supported host: Roslyn 4.8.0, as in .NET 8 SDK hosts.</summary>
public sealed class OldestHostTests
{
    [Fact]
    public void The_compiler_and_workspaces_loaded_are_4_8_0()
    {
        var expected = new Version(4, 8, 0, 0);
        Assert.Equal(expected, typeof(Compilation).Assembly.GetName().Version);
        Assert.Equal(expected, typeof(CSharpCompilation).Assembly.GetName().Version);
        Assert.Equal(expected, typeof(CodeFixProvider).Assembly.GetName().Version);
    }

    [Fact]
    public void The_analyzer_and_code_fix_assemblies_bind_to_the_loaded_compiler()
    {
        var analyzer = new PreemptContextAnalyzer();
        Assert.Equal(6, analyzer.SupportedDiagnostics.Select(d => d.Id).Distinct().Count()); // six rules; XPA0002 has two messages
        Assert.Same(typeof(Compilation).Assembly, typeof(PreemptContextAnalyzer).BaseType!.Assembly);
        Assert.Same(typeof(CodeFixProvider).Assembly, typeof(XenPreemptAnalyzers.CodeFixes.Xpa0001CodeFixProvider).BaseType!.BaseType!.Assembly);
    }
}
