// SPDX-License-Identifier: MIT
using System.Linq;
using XenPreempt.Harness.Exploration;
using Xunit;

namespace XenPreempt.Harness.Tests;

/// <summary>Variant names are split in one place (<see cref="VariantName"/>), and every name the harness offers splits back to itself.</summary>
public sealed class VariantNameTests
{
    [Theory]
    [InlineData("june2023", "june2023", null, false)]
    [InlineData("ours~patchable", "ours", "patchable", false)]
    [InlineData("june2023~without-item3", "june2023", "without-item3", false)]
    [InlineData("june2023+fixes", "june2023", null, true)]
    public void A_name_splits_into_its_base_its_mutant_and_whether_it_is_after_the_fixes(string name, string @base, string? mutant, bool afterFixes)
    {
        var split = VariantName.Split(name);
        Assert.Equal(new VariantName(@base, mutant, afterFixes), split);
        Assert.Equal(name, split.ToString());
        Assert.Equal(mutant is null && !afterFixes, split.IsPlain);
    }

    [Fact]
    public void Every_mutant_parses_to_itself_and_boots_its_base()
    {
        Assert.NotEmpty(Mutants.All);
        foreach (var mutant in Mutants.All)
        {
            var (boot, parsed) = Mutants.Parse(mutant.Variant);
            Assert.Same(mutant, parsed);
            Assert.Equal(mutant.Base, boot);
            Assert.Equal(mutant.Variant, VariantName.Split(mutant.Variant).ToString());
        }
        Assert.Equal(Mutants.All.Count, Mutants.All.Select(m => m.Variant).Distinct().Count());
    }
}
