namespace InferenceHost.LoadTests.Cli;

/// <summary>A bad command-line or scenario option; the message is printed as-is to the user.</summary>
public sealed class OptionException(string message) : Exception(message);
