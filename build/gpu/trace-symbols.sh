#!/usr/bin/env bash
# Which libtorch symbols does our workload make libLibTorchSharp.so bind? Runs the device run's verbs on the CPU, on
# the fixtures, under the dynamic loader's binding trace (LD_DEBUG=bindings), and writes the mangled names bound from
# libLibTorchSharp.so to libtorch/libc10 to build/gpu/abi/libtorch-symbols-used.txt, plus TorchSharp's CUDA entry
# points (bound only on a GPU). build/gpu/abi_probe.py stops the device run if one of these is missing there.
#
#   build/gpu/trace-symbols.sh     (needs Release builds of src/InferenceHost and src/InferenceHost.Trainer)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fix="${INFERENCEHOST_FIXTURES:-$repo/../shared/fixtures}"
srv="$repo/src/InferenceHost/bin/Release/net10.0/InferenceHost.dll"
trainer="$repo/src/InferenceHost.Trainer/bin/Release/net10.0/InferenceHost.Trainer.dll"
[ -f "$srv" ] && [ -f "$trainer" ] || { echo "build first: dotnet build -c Release src/InferenceHost src/InferenceHost.Trainer" >&2; exit 1; }
w="$(mktemp -d)"; trap 'rm -rf "$w"' EXIT
mkdir -p "$w/ld"
export LD_DEBUG=bindings LD_DEBUG_OUTPUT="$w/ld/trace"
tok="$fix/tiny-llama/tokenizer.model"
run() { echo "+ $*" >&2; nice -n 10 dotnet "$@" > /dev/null; }

run "$srv" device-probe
run "$srv" conformance --fixtures "$fix"
run "$srv" dtype-compare --fixtures "$fix" --dtype bfloat16
run "$srv" logits --model "$fix/tiny-llama" --prompt-ids 1,450,7483 --adapter "$fix/tiny-llama/adapters/soft-8" --adapter "$fix/tiny-llama/adapters/lora-all" --out "$w/l.safetensors"
run "$srv" logits --model "$fix/tiny-llama" --prompt "The capital" --adapter "$fix/tiny-llama/adapters/lora-qv" --lora-mode merged --out "$w/m.safetensors"
run "$srv" synth-checkpoint --shape tiny --out "$w/tiny" --seed 1 --dtype bfloat16 --tokenizer "$tok"
run "$srv" synth-adapters --model "$w/tiny" --out "$w/adapters" --count 2 --rank 8 --targets q_proj,k_proj,v_proj,o_proj
run "$srv" bench --shape tiny --dtype bfloat16 --prompt-tokens 16 --decode-steps 2 --work "$w/bench" --tokenizer "$tok"
run "$srv" bench-lora --shape tiny --dtype bfloat16 --ranks 8 --targets qkvo --batches 1,2 --steps 2 --work "$w/bench" --tokenizer "$tok"
head -n 8 "$repo/../shared/data/dialogsum/train.jsonl" > "$w/data.jsonl"
for method in "lora --rslora" "prompt-tuning --virtual-tokens 4" "full"; do
  # shellcheck disable=SC2086
  run "$trainer" train --method $method --model "$fix/tiny-llama" --data "$w/data.jsonl:1:dialogue-summary" --max-steps 1 --batch-size 2 --skip-bad \
    --max-length 160 --truncate-prompt --eval-rouge-samples 0 --eval-loss-samples 2 --val-split 0.25 --out "$w/train-${method%% *}"
done
# The server: start, one completion with an adapter, stop (the same engine, plus the host's own calls).
dotnet "$srv" --Model:Path="$fix/tiny-llama" --Adapters:Directory="$fix/tiny-llama/adapters" --urls http://127.0.0.1:18093 > /dev/null 2>&1 &
pid=$!
python3 - <<'PY'
import json, time, urllib.request
for _ in range(120):
    try:
        urllib.request.urlopen("http://127.0.0.1:18093/health/ready", timeout=2); break
    except Exception: time.sleep(0.5)
body = json.dumps({"model": "lora-qv", "prompt": "Hello", "max_tokens": 4, "temperature": 0, "logprobs": 2}).encode()
urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:18093/v1/completions", body, {"content-type": "application/json"}), timeout=60).read()
PY
kill "$pid"; wait "$pid" 2>/dev/null || true
unset LD_DEBUG LD_DEBUG_OUTPUT

out="$repo/build/gpu/abi/libtorch-symbols-used.txt"
lts="$(readlink -f ~/.nuget/packages/torchsharp/*/runtimes/linux-x64/native/libLibTorchSharp.so | head -n1)"
{
  cat "$w"/ld/trace.* | grep -E 'binding file [^ ]*libLibTorchSharp\.so .* to [^ ]*/lib(torch|c10)[^ /]*\.so' \
    | sed -n "s/.*symbol \`\([^']*\)'.*/\1/p"
  nm -D --undefined-only "$lts" | awk '{print $2}' | sed 's/@.*//' | grep -E '^_ZN5torch4cuda'
} | sort -u > "$out"
echo "$(wc -l < "$out") symbols -> $out"
