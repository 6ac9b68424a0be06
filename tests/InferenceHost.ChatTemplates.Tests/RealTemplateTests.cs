namespace InferenceHost.ChatTemplates.Tests;

/// <summary>
/// Published checkpoints' own templates (Templates/README.md names each source), rendered with the variables
/// transformers passes. Every expected string was written by hand from reading the template.
/// </summary>
public sealed class RealTemplateTests
{
    [Fact]
    public void Llama3_trims_contents_and_starts_with_bos()
    {
        const string Vars = """
            {"messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "  Hello!  "}],
             "bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>", "add_generation_prompt": true, "tools": null}
            """;
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            Render.File("llama3.jinja", Vars));
    }

    [Fact]
    public void Llama3_instruct_adds_the_assistant_header_only_for_a_generation_prompt()
    {
        const string Vars = """
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there"}],
             "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "add_generation_prompt": false}
            """;
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello there<|eot_id|>",
            Render.File("llama3-instruct.jinja", Vars));
    }

    [Fact]
    public void Llama3_2_dates_its_system_turn_with_strftime_now()
    {
        const string Vars = """
            {"messages": [{"role": "system", "content": " Be brief. "}, {"role": "user", "content": "Hi"}],
             "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "add_generation_prompt": true, "tools": null}
            """;
        var clock = new FixedClock(new DateTimeOffset(2024, 7, 26, 9, 0, 0, TimeSpan.Zero));
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n" +
            "Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            Render.File("llama3.2-instruct.jinja", Vars, clock));
    }

    [Fact]
    public void Qwen3_without_a_system_message()
    {
        const string Vars = """{"messages": [{"role": "user", "content": "What is 2+2?"}], "add_generation_prompt": true, "tools": null, "eos_token": "<|im_end|>"}""";
        Assert.Equal("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", Render.File("qwen3.jinja", Vars));
    }

    [Fact]
    public void Qwen3_with_a_system_message_strips_old_reasoning_and_can_switch_thinking_off()
    {
        const string Vars = """
            {"messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"},
                          {"role": "assistant", "content": "<think>\nreasoning here\n</think>\n\nHello!"}, {"role": "user", "content": "Bye"}],
             "add_generation_prompt": true, "tools": null, "enable_thinking": false}
            """;
        Assert.Equal(
            "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n" +
            "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
            Render.File("qwen3.jinja", Vars));
    }

    [Fact]
    public void Qwen3_lists_tools_as_json()
    {
        const string Vars = """
            {"messages": [{"role": "user", "content": "Weather?"}], "add_generation_prompt": true,
             "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]}
            """;
        Assert.Equal(
            "<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
            "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n" +
            "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": {}}}\n</tools>\n\n" +
            "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n" +
            "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" +
            "<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>assistant\n",
            Render.File("qwen3.jinja", Vars));
    }

    [Fact]
    public void Gemma3_puts_the_system_message_into_the_first_user_turn()
    {
        const string Vars = """
            {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                          {"role": "assistant", "content": "Hello."}, {"role": "user", "content": [{"type": "text", "text": " How are you? "}]}],
             "bos_token": "<bos>", "eos_token": "<end_of_turn>", "add_generation_prompt": true}
            """;
        Assert.Equal(
            "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n" +
            "<start_of_turn>user\nHow are you?<end_of_turn>\n<start_of_turn>model\n",
            Render.File("gemma3.jinja", Vars));
    }

    [Fact]
    public void Gemma3_raises_when_roles_do_not_alternate()
    {
        const string Vars = """{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "bos_token": "<bos>"}""";
        var e = Assert.Throws<TemplateRaisedException>(() => Render.File("gemma3.jinja", Vars));
        Assert.Equal("Conversation roles must alternate user/assistant/user/assistant/...", e.Message);
    }

    [Fact]
    public void Mistral_nemo_puts_the_system_message_into_the_last_user_turn()
    {
        const string Vars = """
            {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                          {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Bye"}],
             "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": true, "tools": null}
            """;
        Assert.Equal("<s>[INST]Hi[/INST]Hello!</s>[INST]Be brief.\n\nBye[/INST]", Render.File("mistral-nemo-instruct-2407.jinja", Vars));
    }

    [Fact]
    public void Mistral_nemo_describes_tools_before_the_last_user_turn()
    {
        const string Vars = """
            {"messages": [{"role": "user", "content": "Weather in Paris?"}], "bos_token": "<s>", "eos_token": "</s>",
             "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get weather",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]}
            """;
        Assert.Equal(
            "<s>[AVAILABLE_TOOLS][{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get weather\", " +
            "\"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}}}][/AVAILABLE_TOOLS][INST]Weather in Paris?[/INST]",
            Render.File("mistral-nemo-instruct-2407.jinja", Vars));
    }

    [Fact]
    public void Mistral_nemo_raises_when_roles_do_not_alternate()
    {
        const string Vars = """{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "assistant", "content": "c"}], "bos_token": "<s>", "eos_token": "</s>"}""";
        var e = Assert.Throws<TemplateRaisedException>(() => Render.File("mistral-nemo-instruct-2407.jinja", Vars));
        Assert.Equal("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...", e.Message);
    }

    [Fact]
    public void Zephyr_keeps_the_newline_after_each_output_tag()
    {
        const string Vars = """
            {"messages": [{"role": "system", "content": "You are a friendly chatbot."}, {"role": "user", "content": "Hello"}],
             "eos_token": "</s>", "add_generation_prompt": true}
            """;
        Assert.Equal("<|system|>\nYou are a friendly chatbot.</s>\n<|user|>\nHello</s>\n<|assistant|>\n", Render.File("zephyr-7b-beta.jinja", Vars));
    }

    [Theory]
    [InlineData(true, "<|system|>\nYou are helpful.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n")]
    [InlineData(false, "<|system|>\nYou are helpful.<|end|>\n<|user|>\nHi<|end|>\n<|endoftext|>")]
    public void Phi3_ends_with_the_assistant_tag_or_eos(bool generationPrompt, string expected)
    {
        var vars = $$"""
            {"messages": [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Hi"}],
             "bos_token": "<s>", "eos_token": "<|endoftext|>", "add_generation_prompt": {{(generationPrompt ? "true" : "false")}}}
            """;
        Assert.Equal(expected, Render.File("phi-3.5-mini-instruct.jinja", vars));
    }

    [Fact]
    public void Llama2_closes_and_reopens_turns_with_eos_and_bos()
    {
        Assert.Equal(
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]",
            Render.File("llama2-chat.jinja", Llama2Conversation));
    }

    public const string Llama2Conversation = """
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                      {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Bye"}],
         "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": true}
        """;

    [Theory]
    [InlineData("llama3.jinja")]
    [InlineData("llama3-instruct.jinja")]
    [InlineData("llama3.2-instruct.jinja")]
    [InlineData("qwen3.jinja")]
    [InlineData("gemma3.jinja")]
    [InlineData("mistral-nemo-instruct-2407.jinja")]
    [InlineData("zephyr-7b-beta.jinja")]
    [InlineData("phi-3.5-mini-instruct.jinja")]
    [InlineData("llama2-chat.jinja")]
    public void Every_real_template_compiles(string file) => JinjaTemplate.Compile(Render.Source(file));
}
