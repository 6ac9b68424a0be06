using System.Text;

namespace InferenceHost.Hosting;

public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// The built-in chat templates (<c>ChatTemplate</c>): how messages become one prompt string. The
/// tokenizer adds BOS itself, so no template writes it.
/// </summary>
public static class ChatTemplates
{
    public static IReadOnlyList<string> Names { get; } = ["llama2", "chatml", "zephyr", "plain"];

    public static string Render(string template, IReadOnlyList<ChatMessage> messages) => template switch
    {
        "llama2" => Llama2(messages),
        "chatml" => string.Concat(messages.Select(m => $"<|im_start|>{m.Role}\n{m.Content}<|im_end|>\n")) + "<|im_start|>assistant\n",
        "zephyr" => string.Concat(messages.Select(m => $"<|{m.Role}|>\n{m.Content}</s>\n")) + "<|assistant|>\n",
        "plain" => string.Concat(messages.Select(m => $"{m.Role}: {m.Content}\n")) + "assistant:",
        _ => throw new ArgumentException($"unknown chat template '{template}'", nameof(template)),
    };

    // Llama 2 chat: [INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} [INST] {user} [/INST]
    private static string Llama2(IReadOnlyList<ChatMessage> messages)
    {
        var sb = new StringBuilder();
        var system = string.Join("\n", messages.Where(m => m.Role == "system").Select(m => m.Content));
        var first = true;
        foreach (var m in messages.Where(m => m.Role != "system"))
        {
            if (m.Role == "assistant")
            {
                sb.Append(' ').Append(m.Content).Append(' ');
                continue;
            }

            sb.Append("[INST] ");
            if (first && system.Length > 0)
            {
                sb.Append("<<SYS>>\n").Append(system).Append("\n<</SYS>>\n\n");
            }

            sb.Append(m.Content).Append(" [/INST]");
            first = false;
        }

        return sb.ToString();
    }
}
