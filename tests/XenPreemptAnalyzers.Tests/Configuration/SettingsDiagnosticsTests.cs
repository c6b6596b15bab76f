// SPDX-License-Identifier: MIT
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using XenPreemptAnalyzers.Recognition;
using XenPreemptAnalyzers.Tests.Infrastructure;
using Xunit;

namespace XenPreemptAnalyzers.Tests.Configuration;

/// <summary>
/// XPA9000 from the analyzer: every <c>xen_preempt.*</c> key with a value the reader ignores, and every unknown
/// <c>xen_preempt.*</c> key, gets one diagnostic naming the key, the value and what is accepted — once per compilation,
/// however many files and methods the setting applies to. Good settings get nothing.
/// </summary>
public sealed class SettingsDiagnosticsTests
{
    private const string TwoFiles = "/0/Upcall.cs";

    private static SettingsTest Test(string editorconfig) => new(editorconfig);

    [Fact]
    public Task A_misspelled_model_is_reported_with_the_accepted_models() =>
        Test("xen_preempt.preemption_model = volutnary")
            .Expect(Value("xen_preempt.preemption_model", "volutnary", AnalyzerSettings.AcceptedModels))
            .RunAsync(CancellationToken.None);

    [Fact]
    public Task Every_accepted_model_in_any_case_is_quiet()
    {
        var test = Test("xen_preempt.preemption_model = Voluntary");
        test.TestState.AnalyzerConfigFiles.Add(("/sub/.editorconfig", "[*.cs]\nxen_preempt.preemption_model = lazy\n"));
        return test.RunAsync(CancellationToken.None);
    }

    public static TheoryData<string> NameListKeys()
    {
        var data = new TheoryData<string>();
        foreach (var list in AnalyzerSettings.NameListKeys)
            data.Add(list.Key);
        return data;
    }

    [Theory]
    [MemberData(nameof(NameListKeys))]
    public Task A_name_list_entry_that_is_not_a_method_name_is_reported(string key) =>
        Test($"{key} = port_ok, port_bad(), Port.qualified")
            .Expect(
                Value(key, "Port.qualified", NameListAccepts),
                Value(key, "port_bad()", NameListAccepts))
            .RunAsync(CancellationToken.None);

    [Theory]
    [MemberData(nameof(NameListKeys))]
    public Task A_name_list_of_names_is_quiet(string key) =>
        Test($"{key} = port_one; port_two  @port_three,_port4").RunAsync(CancellationToken.None);

    [Fact]
    public Task A_malformed_patchable_pair_is_reported_and_a_good_one_is_not() =>
        Test("xen_preempt.patchable_methods = port_resched:port_resched_raw, port_missing_raw, :x, a:b:c")
            .Expect(
                Value("xen_preempt.patchable_methods", ":x", PairsAccepted),
                Value("xen_preempt.patchable_methods", "a:b:c", PairsAccepted),
                Value("xen_preempt.patchable_methods", "port_missing_raw", PairsAccepted))
            .RunAsync(CancellationToken.None);

    [Fact]
    public Task A_misspelled_key_is_reported_with_the_key_it_most_likely_meant() =>
        Test("xen_preempt.preemption_modle = voluntary")
            .Expect(Key("xen_preempt.preemption_modle", " (did you mean 'xen_preempt.preemption_model'?)"))
            .RunAsync(CancellationToken.None);

    [Fact]
    public Task An_unknown_key_like_no_known_one_is_reported_without_a_guess() =>
        Test("xen_preempt.make_it_fast = true")
            .Expect(Key("xen_preempt.make_it_fast", ""))
            .RunAsync(CancellationToken.None);

    [Fact]
    public Task Other_tools_keys_are_not_ours_to_judge() =>
        Test("dotnet_diagnostic.XPA0002.severity = warning\nxen_preempt_other = 1\nindent_size = 4").RunAsync(CancellationToken.None);

    [Fact]
    public Task A_setting_that_applies_to_many_files_is_reported_once()
    {
        var test = Test("xen_preempt.preemption_model = sometimes");
        test.TestState.Sources.Add((TwoFiles, "class B { void M() { } void N() { } }"));
        test.TestState.Sources.Add(("/0/Third.cs", "class C { }"));
        return test.Expect(Value("xen_preempt.preemption_model", "sometimes", AnalyzerSettings.AcceptedModels)).RunAsync(CancellationToken.None);
    }

    [Fact]
    public Task A_global_config_setting_is_reported_once_too()
    {
        var test = new SettingsTest(null);
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\nxen_preempt.preemption_model = fulll\nxen_preempt.irq_disable_methods = irq_off()\n"));
        test.TestState.Sources.Add((TwoFiles, "class B { }"));
        return test.Expect(
                Value("xen_preempt.irq_disable_methods", "irq_off()", NameListAccepts),
                Value("xen_preempt.preemption_model", "fulll", AnalyzerSettings.AcceptedModels))
            .RunAsync(CancellationToken.None);
    }

    /// <summary>A host's options type that does not implement <c>Keys</c> (the base throws): found by the typing simulation.</summary>
    private sealed class OptionsWithoutKeys : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
        {
            value = key == AnalyzerSettings.PreemptionModelKey ? "sometimes" : null;
            return value is not null;
        }
    }

    [Fact]
    public void Options_without_a_key_list_still_get_their_known_keys_checked_and_nothing_throws() =>
        Assert.Equal([new SettingProblem(AnalyzerSettings.PreemptionModelKey, "sometimes", AnalyzerSettings.AcceptedModels)],
            AnalyzerSettings.Problems(new OptionsWithoutKeys()));

    [Fact]
    public void The_configuration_page_has_the_section_the_help_link_names()
    {
        Assert.EndsWith("docs/configuration.md#misspelled-settings-xpa9000", Descriptors.XPA9000UnknownKey.HelpLinkUri);
        var page = System.IO.File.ReadAllText(System.IO.Path.Combine(RepositoryRoot(), "docs", "configuration.md"));
        Assert.Contains("\n## Misspelled settings (XPA9000)\n", page);
    }

    private const string NameListAccepts = "method names (C# identifiers, without parentheses or a type) separated by commas, semicolons or spaces";
    private const string PairsAccepted = "pairs 'patchable_name:raw_name' of method names, separated by commas";

    private static DiagnosticResult Value(string key, string value, string accepted) =>
        new DiagnosticResult(Descriptors.XPA9000UnknownValue).WithArguments(key, value, accepted);

    private static DiagnosticResult Key(string key, string guess) =>
        new DiagnosticResult(Descriptors.XPA9000UnknownKey).WithArguments(key, guess, string.Join(", ", AnalyzerSettings.KnownKeys()));

    private static string RepositoryRoot()
    {
        for (var directory = new System.IO.DirectoryInfo(System.AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (System.IO.File.Exists(System.IO.Path.Combine(directory.FullName, "XenPreemptAnalyzers.sln")))
                return directory.FullName;
        }
        throw new System.InvalidOperationException("XenPreemptAnalyzers.sln not found");
    }

    /// <summary>The settings analyzer alone over a small source, with one .editorconfig for every .cs file.</summary>
    private sealed class SettingsTest : CSharpAnalyzerTest<SettingsAnalyzer, DefaultVerifier>
    {
        public SettingsTest(string? editorconfig)
        {
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            TestState.AdditionalReferences.AddRange(InstalledReferences.Net.Value);
            TestState.Sources.Add(("/0/Test0.cs", "class A { void M() { } }"));
            if (editorconfig is not null)
                TestState.AnalyzerConfigFiles.Add(("/.editorconfig", "root = true\n\n[*.cs]\n" + editorconfig + "\n"));
        }

        public SettingsTest Expect(params DiagnosticResult[] expected)
        {
            ExpectedDiagnostics.AddRange(expected);
            return this;
        }
    }
}
