using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Xunit;
using XenPreemptAnalyzers.Infrastructure;
using XenPreemptAnalyzers.Tests.Infrastructure;

namespace XenPreemptAnalyzers.Tests.Meta;

/// <summary>An exception inside a rule is rethrown with the rule, file and line, so AD0001 is actionable.</summary>
public sealed class CrashReportTests
{
    [Fact]
    public async Task Rule_failure_names_rule_file_and_line()
    {
        const string victim = "provoke_crash_in_xpa0004";
        AnalyzerGuard.BeforeRule = (rule, symbol) =>
        {
            if (rule == "XPA0004" && symbol?.Name == victim)
                throw new InvalidOperationException("provoked by the test hook");
        };
        try
        {
            var exceptions = new List<Exception>();
            await Compile.AnalyzeAsync(
                Compile.WithStubs($"class C\n{{\n    [ProcessContext] static void {victim}() {{ __this_cpu_write(counter, 1); }}\n}}"),
                (e, _, _) => { lock (exceptions) exceptions.Add(e); });

            var exception = Assert.IsType<PreemptAnalyzerException>(Assert.Single(exceptions));
            Assert.Contains("XPA0004", exception.Message);
            Assert.Contains("/src/File0.cs(5,", exception.Message); // two using lines precede the class
            Assert.Contains(victim, exception.Message);
            Assert.Contains("provoked by the test hook", exception.Message);
            Assert.IsType<InvalidOperationException>(exception.InnerException);
        }
        finally
        {
            AnalyzerGuard.BeforeRule = null;
        }
    }
}
