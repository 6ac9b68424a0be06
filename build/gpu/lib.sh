# Helpers and stage bodies of build/gpu/run.sh (sourced; needs the variables run.sh exports).
# shellcheck shell=bash

elapsed() { echo $(( $(date +%s) - T0 )); }
left() { echo $(( RUN_BUDGET_S - $(elapsed) )); }
log() { echo "[+$(elapsed)s $(date +%H:%M:%S)] $*"; }

# stage NAME TIMEOUT COMMAND... : runs the command (a program or one of the functions below) with its output in
# $R/NAME.log, under min(TIMEOUT, what is left of the budget); records name, exit code and seconds in stages.tsv.
stage() {
  local name="$1" limit=$(( $2 * ${STAGE_TIME_SCALE:-1} )); shift 2
  case " $STAGES " in *" all "*|*" $name "*) ;; *) return 0 ;; esac
  local remaining; remaining=$(( $(left) - 10 ))
  if [ "$remaining" -lt 15 ]; then
    log "stage $name skipped: ${remaining}s of the budget left"
    printf '%s\tskipped\t0\t%s\n' "$name" "$(elapsed)" >> "$R/stages.tsv"
    return 0
  fi
  [ "$limit" -gt "$remaining" ] && limit="$remaining"
  log "stage $name (limit ${limit}s)"
  local t=$(date +%s) rc
  if declare -F "$1" >/dev/null; then
    timeout -k 10 "$limit" bash -c "$(declare -f); set -o pipefail; $(printf '%q ' "$@")" > "$R/$name.log" 2>&1
  else
    timeout -k 10 "$limit" "$@" > "$R/$name.log" 2>&1
  fi
  rc=$?
  [ "$rc" = 124 ] && echo "stage $name: stopped at its ${limit}s limit" >> "$R/$name.log"
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - t ))" "$(elapsed)" >> "$R/stages.tsv"
  log "stage $name: exit $rc in $(( $(date +%s) - t ))s"
  tail -n 3 "$R/$name.log" | sed 's/^/    /'
  pack
}

stage_rc() { awk -F'\t' -v n="$1" '$1 == n {rc = $2} END {print rc}' "$R/stages.tsv" 2>/dev/null; }

# What comes back: at most a few files in $OUT. Re-packed after every stage, so a run cut short still returns.
pack() {
  tar -C "$R" -czf "$OUT/results.tar.gz.tmp" . 2>/dev/null && mv "$OUT/results.tar.gz.tmp" "$OUT/results.tar.gz"
  python3 "$gpu/summarize.py" --results "$R" --out "$OUT" >/dev/null 2>&1 || true
}

finish() {
  local p
  stop_server
  for p in $(jobs -p); do pkill -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
  log "finished with code $1 after $(elapsed)s"
  echo "exit_code $1" >> "$R/stages.tsv.end"
  pack
  python3 "$gpu/summarize.py" --results "$R" --out "$OUT" --print || true
  [ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$W"
  exit "$1"
}

ours() { "$DN" "$SRV" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_ready() { # wait_ready PORT SECONDS
  python3 - "$1" "$2" <<'PY'
import sys, time, urllib.request
port, limit = sys.argv[1], float(sys.argv[2]); end = time.time() + limit
while time.time() < end:
    try:
        if urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2).status == 200: sys.exit(0)
    except Exception: time.sleep(0.5)
sys.exit(1)
PY
}

# start_server LOG ARGS... : starts our server on a free port; prints the port once it is ready (exit 1 if not).
start_server() {
  local logfile="$1"; shift
  local port; port="$(free_port)"
  "$DN" "$SRV" "$@" --urls "http://127.0.0.1:$port" > "$logfile" 2>&1 & # not through `ours`: $! must be the server
  echo $! > "$W/server.pid"
  if wait_ready "$port" 90; then echo "$port"; else stop_server; return 1; fi
}
stop_server() { # TERM, then KILL after 10 s: a server left behind would hold the GPU's memory for the next stage
  [ -f "$W/server.pid" ] || return 0
  local pid i=0; pid="$(cat "$W/server.pid")"
  kill "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
  kill -9 "$pid" 2>/dev/null
  rm -f "$W/server.pid"
}

fixture_names() { python3 -c 'import json,sys; print(" ".join(f["model"] for f in json.load(open(sys.argv[1]))["fixtures"]))' "$FIX/goldens.json"; }

# Background work started once the probes pass: synthetic checkpoints for the benchmarks, our trainer's outputs.
background_prepare() {
  mkdir -p "$W/bench" "$W/trained"
  (
    for shape in $BENCH_SHAPES; do
      ours synth-checkpoint --shape "$shape" --out "$W/bench/$shape-bfloat16" --seed 0 --dtype bfloat16 --tokenizer "$TOKENIZER" \
        && touch "$W/bench/$shape.ready"
    done
  ) > "$R/prep-synth.log" 2>&1 &
  local data="$B/data/dialogsum-train-64.jsonl:1:dialogue-summary" common=(--max-steps 3 --batch-size 2 --max-length 160 --skip-bad
    --truncate-prompt --eval-rouge-samples 0 --eval-loss-samples 2 --val-split 0.1 --model "$FIX/tiny-llama")
  local -A methods=(
    [lora]="--method lora --rank 8 --alpha 16 --targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj --lr 1e-2"
    [rslora]="--method lora --rank 16 --alpha 8 --rslora --targets q_proj,v_proj,down_proj --lr 1e-2"
    [prompt]="--method prompt-tuning --virtual-tokens 8 --lr 3e-2"
    [full]="--method full --lr 1e-3")
  for m in "${!methods[@]}"; do
    # shellcheck disable=SC2086 # the method's options are words
    (OMP_NUM_THREADS=4 "$DN" "$TRAINER" train ${methods[$m]} "${common[@]}" --data "$data" --out "$W/trained/$m" \
      && touch "$W/trained/$m.ready") > "$R/prep-train-$m.log" 2>&1 &
  done
}

wait_for() { # wait_for FILE SECONDS
  local i=0; while [ ! -e "$1" ] && [ "$i" -lt "$2" ]; do sleep 1; i=$((i + 1)); done; [ -e "$1" ]
}

generate_cli() {
  python3 "$gpu/check_generate.py" --dotnet "$DN" --dll "$SRV" --fixtures "$FIX" --device "$DEVICE" --out "$R/generate-cli.json"
}

server_conformance() {
  local rc=0 f mode port
  for f in $(fixture_names); do
    for mode in unmerged merged auto; do
      if ! port="$(start_server "$R/server-$f-$mode.log" --Model:Path="$FIX/$f" --Adapters:Directory="$FIX/$f/adapters" \
          --Lora:Mode="$mode" --Model:Device="$DEVICE" --Engine:MaxBatchSize=32)"; then
        echo "server for $f ($mode) never became ready: see server-$f-$mode.log"; rc=1; continue
      fi
      ours conformance --fixtures "$FIX" --fixture "$f" --url "http://127.0.0.1:$port" --out "$R/server-conformance-$f-$mode.json" > /dev/null || rc=1
      python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sys.argv[2], [(x["kind"], x["passed"], x["cases"]) for x in r["runs"]])' \
        "$R/server-conformance-$f-$mode.json" "$f/$mode" || true
      stop_server
    done
  done
  return $rc
}

bf16_checks() {
  ours conformance --fixtures "$FIX" --device "$DEVICE" --dtype bfloat16 --report-only --out "$R/conformance-bf16.json" > /dev/null || return 1
  ours dtype-compare --fixtures "$FIX" --device "$DEVICE" --dtype bfloat16 --out "$R/dtype-compare-bf16.json" > /dev/null
}

interop() {
  local i="$W/interop" rc=0 m port
  mkdir -p "$i/served"
  ours synth-checkpoint --shape tiny --out "$W/models/synth-tiny" --seed 5 --tokenizer "$TOKENIZER" || return 1
  for m in lora rslora prompt full; do wait_for "$W/trained/$m.ready" 150 || echo "trainer ($m) did not finish: see prep-train-$m.log"; done
  for m in lora rslora prompt; do [ -e "$W/trained/$m.ready" ] && ln -sfn "$W/trained/$m" "$i/served/trained-$m"; done
  python3 "$gpu/interop/hf_interop.py" prepare --base "$W/models/synth-tiny" --data "$B/data/dialogsum-train-64.jsonl" --out "$i/peft" --device "$DEVICE" || rc=1
  python3 "$gpu/interop/hf_interop.py" plan --work "$W" --fixtures "$FIX" --out "$i/manifest.json" || return 1
  python3 "$gpu/interop/hf_interop.py" ours --manifest "$i/manifest.json" --dotnet "$DN" --dll "$SRV" --device "$DEVICE" || rc=1
  if port="$(start_server "$R/server-interop.log" --Model:Path="$FIX/tiny-llama" --Adapters:Directory="$i/served" --Model:Device="$DEVICE")"; then
    python3 "$gpu/interop/hf_interop.py" serve-query --manifest "$i/manifest.json" --url "http://127.0.0.1:$port" || rc=1
    stop_server
  else
    echo "interop server never became ready: see server-interop.log"; rc=1
  fi
  python3 "$gpu/interop/hf_interop.py" compare --manifest "$i/manifest.json" --device "$DEVICE" --out "$R/interop.json" || rc=1
  return $rc
}

bench_shape() {
  local shape="$1" lora_args=(--ranks 16,64 --targets qkvo,all-linear --batches 1,8,32,64 --steps 16)
  [ "$shape" = tiny ] && lora_args=(--ranks 8 --targets qkvo --batches 1,8 --steps 4)
  wait_for "$W/bench/$shape.ready" 240 || { echo "synthetic $shape never finished: see prep-synth.log"; return 1; }
  ours bench --shape "$shape" --dtype bfloat16 --device "$DEVICE" --work "$W/bench" --tokenizer "$TOKENIZER" | tee "$R/bench-$shape.md" || return 1
  ours bench-lora --shape "$shape" --dtype bfloat16 --device "$DEVICE" --work "$W/bench" --tokenizer "$TOKENIZER" "${lora_args[@]}" \
    | tee "$R/bench-lora-$shape.md"
}

loadtest() {
  local shape="$1" model="$W/bench/$1-bfloat16" count=64 duration=8
  [ "$DEVICE" = cpu ] && count=8 duration=3
  wait_for "$W/bench/$shape.ready" 120 || return 1
  ours synth-adapters --model "$model" --out "$W/adapters-lt" --count "$count" --rank 8 --targets q_proj,k_proj,v_proj,o_proj || return 1
  local cmd="$DN $SRV --Model:Path={model} --Adapters:Directory={adapters} --Lora:Mode={mode} --urls http://127.0.0.1:{port}"
  cmd+=" --Model:Device=$DEVICE --Model:DType=bfloat16 --Lora:MaxSlots=$count --Engine:MaxBatchSize=64"
  "$DN" "$LOADTOOL" scenarios --file "$gpu/loadtest-gpu.json" --out "$R/loadtest" --server-cmd "$cmd" \
    --model-dir "$model" --adapters-dir "$W/adapters-lt" --base-model "$shape-bfloat16" --duration "$duration" --plots false \
    ${LOADTEST_ARGS:-}
}
