using InferenceHost.CommandLine;
using InferenceHost.Trainer;

// The trainer's verbs; see README.md and VERB --help.
var commandLine = "InferenceHost.Trainer " + string.Join(' ', args.Select(a => a.Contains(' ') || a.Contains('\n') ? $"\"{a}\"" : a));
return CliVerb.Invoke("InferenceHost.Trainer: LoRA, prompt tuning, full fine-tuning and pre-training; eval against the base.",
    TrainerVerbs.All(commandLine), args, TrainerVerbs.IsUserError);
