using System.IO;
using Xunit;

namespace XenPreempt.EndToEnd.Tests;

/// <summary>
/// A consumer that references only XenPreempt.Kernel (the port as a package) gets XenPreemptAnalyzers
/// transitively, and a warning when it misuses one of the port's primitives.
/// </summary>
[Collection(PackedFeedCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class KernelPackageTests(PackedFeed feed)
{
    [Fact]
    public void A_consumer_of_the_port_package_gets_the_analyzers_transitively()
    {
        feed.Pack(Path.Combine("src", "XenPreempt.Kernel", "XenPreempt.Kernel.csproj"));
        var dir = Path.Combine(feed.Root, "UsesKernel");
        Directory.CreateDirectory(dir);
        Dotnet.WriteNuGetConfig(dir, feed.Feed, feed.Packages);
        File.WriteAllText(Path.Combine(dir, "UsesKernel.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <NoWarn>$(NoWarn);CS8981</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="XenPreempt.Kernel" Version="0.1.0" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "Driver.cs"), """
            using XenPreempt.Annotations;
            using static XenPreempt.Kernel.Linux;

            namespace UsesKernel;

            public static class Driver
            {
                [ProcessContext]
                public static void my_driver_poll()
                {
                    local_irq_disable();
                    schedule();
                    local_irq_enable();
                }
            }
            """);

        var build = feed.Build(dir);
        Assert.True(build.Code == 0, build.Output);
        Assert.Equal(["Driver.cs:12 warning XPA0006"], Dotnet.Findings(build.Output));
    }
}
