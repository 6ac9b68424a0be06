using InferenceHost.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace InferenceHost.Gateway;

public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            GatewayApp.Build(args).Run();
            return 0;
        }
        catch (OptionsValidationException e)
        {
            // Bad configuration stops the gateway with one line naming the key, not a stack trace.
            Console.Error.WriteLine($"configuration error: {string.Join("; ", e.Failures)}");
            return 1;
        }
    }
}
