using InferenceHost.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace InferenceHost.Api.Tests;

/// <summary>A bad configuration value stops start-up with one line naming the key, not a stack trace.</summary>
public sealed class ConfigurationErrorsTests
{
    [Theory]
    [InlineData("Model:DecodeKernels", "maybe", "'Model:DecodeKernels' to type 'System.Boolean': maybe is not a valid value for Boolean")]
    [InlineData("Engine:MaxBatchSize", "abc", "'Engine:MaxBatchSize' to type 'System.Int32'")]
    [InlineData("Model:Quantization", "int4", "Model:Quantization: 'int4' is not one of none, int8, nf4")]
    public void A_bad_value_is_one_line_naming_its_key(string key, string value, string expected)
    {
        var (ok, error) = Check(new Dictionary<string, string?> { [key] = value });

        Assert.False(ok);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("configuration error: ", line);
        Assert.Contains(expected, line);
    }

    [Fact]
    public void A_good_configuration_passes()
    {
        var (ok, error) = Check(new Dictionary<string, string?> { ["Model:Quantization"] = "int8", ["Model:DecodeKernels"] = "false" });

        Assert.True(ok, error);
        Assert.Empty(error);
    }

    [Fact]
    public void Other_failures_are_not_taken_for_configuration_errors()
    {
        Assert.Empty(ConfigurationErrors.Describe(new InvalidOperationException("Failed to open the file")));
        Assert.Empty(ConfigurationErrors.Describe(new AggregateException(new IOException("disk"))));
    }

    private static (bool Ok, string Error) Check(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddInferenceServices();
        using var host = builder.Build();
        var error = new StringWriter();
        return (ConfigurationErrors.Check(host.Services, error), error.ToString());
    }
}
