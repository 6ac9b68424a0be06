using InferenceHost.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace InferenceHost.Api.Tests;

/// <summary>A bad configuration value stops start-up with one line naming the key, not a stack trace.</summary>
public sealed class ConfigurationErrorsTests
{
    [Theory]
    [InlineData("Model:DecodeKernels", "maybe", "'Model:DecodeKernels' to type 'System.Boolean': maybe is not a valid value for Boolean")]
    [InlineData("Engine:MaxBatchSize", "abc", "'Engine:MaxBatchSize' to type 'System.Int32'")]
    [InlineData("Model:Quantization", "int4", "Model:Quantization: 'int4' is not one of none, int8, nf4")]
    [InlineData("Engine:MaxBatchSize", "0", "Engine:MaxBatchSize: The field MaxBatchSize must be between 1 and")]
    public void A_bad_value_is_one_line_naming_its_key(string key, string value, string expected)
    {
        var problems = Validate(new Dictionary<string, string?> { [key] = value });

        Assert.Contains(expected, Assert.Single(problems));
    }

    [Fact]
    public void A_good_configuration_passes()
    {
        Assert.Empty(Validate(new Dictionary<string, string?> { ["Model:Quantization"] = "int8", ["Model:DecodeKernels"] = "false" }));
    }

    [Fact]
    public void Other_failures_are_not_taken_for_configuration_errors()
    {
        Assert.Empty(ConfigurationErrors.Describe(new InvalidOperationException("Failed to open the file")));
        Assert.Empty(ConfigurationErrors.Describe(new AggregateException(new IOException("disk"))));
    }

    /// <summary>What the server would print at start-up for <paramref name="settings"/>: the options' start-up validation, described.</summary>
    private static IReadOnlyList<string> Validate(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddInferenceServices();
        using var host = builder.Build();
        try
        {
            host.Services.GetRequiredService<IStartupValidator>().Validate();
            return [];
        }
        catch (Exception e)
        {
            var problems = ConfigurationErrors.Describe(e);
            Assert.NotEmpty(problems); // anything else would reach the user as a stack trace
            return problems.Distinct().ToArray();
        }
    }
}
