namespace InferenceHost.LoadTests.Cli;

public static class Help
{
    public const string Text = """
        InferenceHost.LoadTests: streaming load generator for the OpenAI-compatible server (loopback only).

        Commands:
          run        one run:  run --url http://127.0.0.1:8000 --mode closed --concurrency 8 --requests 200 \
                                   --duration 60 --adapters 8 --popularity uniform --prompt-len 128 --output-len 64 --out results/
          scenarios  a scenario file:  scenarios --file loadtests/scenarios/lora-modes.json --out results/lora-modes [--dry-run]
                     (any run option given here overrides every run of the file, e.g. --url or --duration)
          help       this text

        Target:   --url URL | --start-server [--server-cmd "..."] [--model-dir D] [--adapters-dir D] [--lora-mode M]
                  [--port P (0 = free port)] [--ready-timeout S] [--prepare-cmd "cmd ;; cmd"]
                  server-cmd placeholders: {model} {adapters} {mode} {port}
        Traffic:  --mode closed|open  --concurrency N  --request-rate R|inf  --burstiness B (1 = Poisson)
                  --max-concurrency N (open loop cap)  --requests N  --duration S  --warmup N  --seed N
        Adapters: --adapters N  --adapter-names a,b  --adapter-prefix P (adapter-)  --popularity single|uniform|skewed|distinct
                  --zipf-exponent S  --base-fraction F  --base-model NAME  --adapter-kind lora|soft|lora-soft
                  --soft-prompts N  --soft-names a,b  --soft-prefix P (soft-)
        Lengths:  --prompts random|dialogsum  --prompt-len N|MIN-MAX (words)  --output-len N|MIN-MAX
                  --dataset FILE.jsonl  --max-prompt-chars N  --ignore-eos true|false
        SLOs:     --slo-ttft-ms X  --slo-tpot-ms X  --slo-e2e-ms X  (goodput = requests/s meeting all)
        429s:     --honor-retry-after (retry after Retry-After, capped by --max-retry-wait S, up to --max-retries N)
        Limits:   --request-timeout S  --drain-timeout S
        Output:   --out DIR  --plots true|false  --scrape-metrics true|false  --metrics-filter batch_size,merged_switch,mode,queue

        """;
}
