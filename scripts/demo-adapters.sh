#!/usr/bin/env bash
# Trains the demo adapters shipped in adapters/ on the server's embedded default model (.models/default:
# the synthetic tiny Llama with cl100k_base, seed 0 — the same bytes the server writes on first start).
# The base produces noise, so the effect is plain: with adapter "demo-lora-capitals" the model answers
# "Q: What is the capital of France?\nA:" with "The capital of France is Paris.". "demo-soft-prompt" was
# trained to answer any prompt like a pirate; on this random base it did not learn that (see
# adapters/README.md), but it visibly changes the output. Takes 10-20 minutes on 2 shared CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
T="dotnet run -c Release --project src/InferenceHost.Trainer --"
BASE=${BASE:-.models/default}
[ -f "$BASE/model.safetensors" ] || $T default-model --out "$BASE"
[ -n "${SKIP_LORA:-}" ] || $T train --method lora --model "$BASE" --data scripts/demo-data/capitals.jsonl \
  --template 'Q: What is the capital of {country}?\nA:|||The capital of {country} is {capital}.' \
  --rank 8 --alpha 16 --targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj \
  --lr 5e-3 --warmup 10 --batch-size 12 --epochs 80 --max-length 48 --seed 1 \
  --out adapters/demo-lora-capitals --report artifacts/demo/lora-capitals
[ -n "${SKIP_SOFT:-}" ] || $T train --method prompt-tuning --model "$BASE" --data scripts/demo-data/pirate.jsonl \
  --template '{text}\n|||{reply}' --virtual-tokens 16 --prompt-init text --prompt-init-text "Answer like a pirate." \
  --lr 5e-2 --warmup 5 --batch-size 12 --epochs 40 --max-length 48 --seed 1 \
  --out adapters/demo-soft-prompt --report artifacts/demo/soft-prompt
rm -rf adapters/demo-lora-capitals/checkpoint adapters/demo-soft-prompt/checkpoint
