#!/usr/bin/env bash
# The DialogSum experiment of docs/experiments.md: learn a 4k byte-level BPE on the training dialogues,
# pre-train the dialogsum-6m shape on them (resumable, in as many invocations as it takes), then prompt
# tuning, LoRA, QLoRA and full fine-tuning for dialogue summarization, the same for the dialogue-topic task,
# the forgetting runs (summarization after topic; multi-task summary + topic), then evaluate them all (and
# the forgetting of the pre-training text) on the validation split.
#
#   scripts/dialogsum-experiment.sh                                   # everything (many hours on 2 cores)
#   STAGES="build tokenizer pretrain" PRETRAIN_MINUTES=20 scripts/dialogsum-experiment.sh
#                       # 20 minutes of pre-training, then a checkpoint; the same command again resumes it,
#                       # until the planned PRETRAIN_STEPS are done (then the stage is skipped)
#   STAGES="eval" scripts/dialogsum-experiment.sh                     # only some stages
#   STAGES="tokenizer pretrain" PRETRAIN_MINUTES=120 STORE_SAVE=1 scripts/dialogsum-experiment.sh
#                       # ... and keep the tokenizer and the pre-training checkpoint in checkpoints/dialogsum
#                       # (commit it): a fresh clone's next invocation restores it and resumes
#   STAGES="lora full" FT_MINUTES=60 STORE_SAVE=1 scripts/dialogsum-experiment.sh
#                       # the same for fine-tunes: each stops after 60 minutes (or when done) and is stored,
#                       # its checkpoint while unfinished, its adapter or model once finished
#
# Stages: build tokenizer pretrain prompt lora qlora full topic-prompt topic-lora topic-full forget multitask eval. Outputs under $OUT (default artifacts/dialogsum,
# git-ignored); docs/experiments.md quotes them. NICE (default 10) is the niceness of every training stage.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/dialogsum}
OUT=${OUT:-artifacts/dialogsum}
BIN=${BIN:-artifacts/trainer-bin}
STAGES=${STAGES:-"build tokenizer pretrain prompt lora qlora full topic-prompt topic-lora topic-full forget multitask eval"}
SEED=${SEED:-42}
NICE=${NICE:-10}
THREADS=${THREADS:-0}                  # 0 = libtorch's default (one per core)
VOCAB=${VOCAB:-4096}
SHAPE=${SHAPE:-dialogsum-6m}
# 12,000 steps × 8 blocks × 256 tokens = 24.6 M tokens ≈ 10 passes over the 2.43 M tokens of the dialogues.
PRETRAIN_STEPS=${PRETRAIN_STEPS:-12000}
PRETRAIN_MINUTES=${PRETRAIN_MINUTES:-0} # > 0: stop after this many minutes with a checkpoint; rerun to resume
FT_EPOCHS=${FT_EPOCHS:-1}              # passes over the 12,460 training dialogues per fine-tune
STORE_SAVE=${STORE_SAVE:-0}            # 1: after each training stage, keep its state in STORE (commit it to resume elsewhere)
FT_MINUTES=${FT_MINUTES:-0}            # > 0: each fine-tune stops after this many minutes with a checkpoint; rerun to resume
DEADLINE=${DEADLINE:-}                 # e.g. 03:30 (UTC, today) or "2026-12-05 03:30": every training stage stops by then with a checkpoint; later ones are skipped
EVAL_N=${EVAL_N:-500}                  # validation dialogues evaluated (all 500)
FT_EXTRA=${FT_EXTRA:-}                 # appended to every fine-tune (a later value wins), e.g. "--max-steps 2" for a smoke run
mkdir -p "$OUT"
has() { [[ " $STAGES " == *" $1 "* ]]; }
# A training stage is finished when its report says it did not stop at a time limit.
finished() { [[ -f $OUT/$1/training/report.json ]] && grep -q '"stopped_at_time_limit": false' "$OUT/$1/training/report.json"; }
T="nice -n $NICE dotnet $BIN/InferenceHost.Trainer.dll"
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }
# minutes_left LIMIT: the --max-minutes a training stage gets: LIMIT (0 = none), cut to what DEADLINE leaves.
minutes_left() {
  local limit=$1 left
  [[ -n $DEADLINE ]] || { echo "$limit"; return; }
  left=$(( ($(date -u -d "$DEADLINE" +%s) - $(date -u +%s)) / 60 ))
  if (( limit == 0 || left < limit )); then echo "$left"; else echo "$limit"; fi
}

# The store: a training stage's state kept in the repository (STORE, committed), so a run that one machine's
# session cut off resumes on the next machine. What it keeps of a stage: its resumable checkpoint while
# unfinished, its output files once finished; files over 45 MB in numbered parts, all with SHA-256 sums.
STORE=${STORE:-checkpoints/dialogsum}
store_save() { # store_save NAME: $OUT/NAME (checkpoint, or output when finished) -> $STORE/NAME
  local name=$1 src dst=$STORE/$1 f
  if [[ -d $OUT/$name/checkpoint ]] && ! finished "$name"; then src=$OUT/$name/checkpoint; else src=$OUT/$name; fi
  [[ -d $src ]] || return 0
  rm -rf "$dst.partial" && mkdir -p "$dst.partial"
  for f in "$src"/*; do
    [[ -f $f ]] || continue
    if (( $(stat -c %s "$f") > 45000000 )); then split -b 45000000 -d -a 2 "$f" "$dst.partial/$(basename "$f").part"; else cp "$f" "$dst.partial/"; fi
  done
  if [[ -f $OUT/$name/training/report.json ]]; then mkdir -p "$dst.partial/training" && cp "$OUT/$name/training/report.json" "$dst.partial/training/"; fi
  (cd "$src" && find . -maxdepth 1 -type f -printf '%P\n' | sort | xargs sha256sum) > "$dst.partial/SHA256SUMS"
  rm -rf "$dst" && mv "$dst.partial" "$dst"
  echo "stored $src in $dst ($(du -sh "$dst" | cut -f1))"
}
store_restore() { # store_restore NAME: $STORE/NAME -> $OUT/NAME (its checkpoint, or its output), unless $OUT has it
  local name=$1 src=$STORE/$1 dst f sums
  [[ -f $src/SHA256SUMS ]] || return 0
  if [[ -f $src/state.json ]]; then dst=$OUT/$name/checkpoint; else dst=$OUT/$name; fi
  [[ -f $dst/state.json || -f $dst/config.json || -f $dst/adapter_config.json || -f $dst/tokenizer.json ]] && return 0
  rm -rf "$dst.partial" && mkdir -p "$dst.partial"
  for f in "$src"/*; do
    [[ -f $f ]] || continue
    case $f in
      */SHA256SUMS) ;;
      *.part00) cat "${f%.part00}".part[0-9][0-9] > "$dst.partial/$(basename "${f%.part00}")" ;;
      *.part[0-9][0-9]) ;;
      *) cp "$f" "$dst.partial/" ;;
    esac
  done
  sums=$(realpath "$src/SHA256SUMS") # before the cd: STORE may be relative
  (cd "$dst.partial" && sha256sum --quiet -c "$sums") || { echo "$src does not match its SHA256SUMS; nothing restored" >&2; rm -rf "$dst.partial"; exit 1; }
  mkdir -p "$dst" && mv "$dst.partial"/* "$dst/" && rmdir "$dst.partial"
  if [[ -f $src/training/report.json ]]; then mkdir -p "$OUT/$name/training" && cp "$src/training/report.json" "$OUT/$name/training/"; fi
  echo "restored $dst from $src"
}

if has build; then
  stamp build
  dotnet build src/InferenceHost.Trainer -c Release -o "$BIN" -v quiet -nologo
fi

# 1. Tokenizer: byte-level BPE, 4,096 ids (256 bytes, merges, <s> </s> <pad>), learned on the training
#    dialogues less the 2% pre-training holds out (same --val-split and --split-seed).
if has tokenizer; then
  stamp tokenizer
  store_restore tokenizer
  if [[ -f $OUT/tokenizer/tokenizer.json ]]; then echo "tokenizer: $OUT/tokenizer (kept: the stored base was trained with it)"; else
  $T train-tokenizer --text $DATA/train.jsonl --text-field dialogue --val-split 0.02 --split-seed $SEED \
    --vocab-size $VOCAB --out $OUT/tokenizer
  fi
fi

# 2. Base: the dialogsum-6m shape (hidden 256, 8 layers, SwiGLU 688, tied 4k embeddings; 86% of the weights
#    outside the embedding), causal-LM loss on every token, packed 256-token blocks, cosine over
#    PRETRAIN_STEPS, checkpoints every 5 minutes; an invocation with PRETRAIN_MINUTES stops with a
#    checkpoint, and the next one resumes from it (the same data plan and schedule, so the result does not
#    depend on how the run was cut).
if has pretrain; then
  stamp pretrain
  store_restore base
  RESUME=()
  if finished base; then
    echo "pre-training already finished ($OUT/base/training/report.json); remove $OUT/base to start again"
  else
    if [[ -f $OUT/base/checkpoint/state.json ]]; then RESUME=(--resume $OUT/base/checkpoint); fi
    minutes=$(minutes_left "$PRETRAIN_MINUTES")
    if [[ -n $DEADLINE ]] && (( minutes < 3 )); then echo "pre-training: DEADLINE $DEADLINE leaves $minutes minutes"; exit 1; fi
    time $T pretrain --tokenizer $OUT/tokenizer --shape $SHAPE --max-positions 512 --init-seed $SEED \
      --text $DATA/train.jsonl --text-field dialogue --val-split 0.02 --split-seed $SEED \
      --max-length 256 --batch-size 8 --max-steps $PRETRAIN_STEPS --lr 2e-3 --warmup 200 --min-lr-ratio 0.1 \
      --eval-every 50 --eval-loss-samples 64 --save-every-minutes 5 --max-minutes "$minutes" \
      --threads $THREADS --seed $SEED --out $OUT/base "${RESUME[@]}"
  fi
  if [[ $STORE_SAVE == 1 ]]; then store_save tokenizer; store_save base; fi
fi

# Fine-tuning: the built-in template libraries (dialogue-summary: 4 phrasings; dialogue-topic: 2), prompt loss
# masked, dialogues longer than the budget shortened in the middle of the prompt (--truncate-prompt), the same
# data order (seed), FT_EPOCHS passes over the 12,460 dialogues for each method, batches of similar lengths
# (--group-by-length: 1.0 % of the positions padding instead of 32.8 %, measured on the summary task). A stage whose report says it
# finished is skipped; one stopped by FT_MINUTES resumes from its checkpoint when run again.
SUMMARY="$DATA/train.jsonl:1:dialogue-summary"
TOPIC="$DATA/train.jsonl:1:dialogue-topic"
# The validation split is watched (loss, ROUGE on 16) but selects nothing (--no-keep-best): the last step's
# weights are the result, so the evaluation below is not tuned on its own data.
FT_COMMON="--validation $DATA/validation.jsonl --no-keep-best --max-length 384 --truncate-prompt --group-by-length --batch-size 8 --epochs $FT_EPOCHS --warmup 50 \
  --eval-every 200 --eval-loss-samples 64 --eval-rouge-samples 16 --max-new-tokens 48 \
  --save-every-minutes 10 --threads $THREADS --seed $SEED"
LORA="--rank 16 --alpha 32 --targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj --lr 2e-3"
finetune() { # finetune NAME BASE_DIR DATA_OPTIONS... -- METHOD_OPTIONS...
  local name=$1 base=$2; shift 2
  stamp "$name"
  store_restore "${base#"$OUT"/}"
  store_restore "$name"
  if finished "$name"; then
    echo "$name already finished ($OUT/$name/training/report.json); remove $OUT/$name to train it again"; return
  fi
  if ! finished "${base#"$OUT"/}"; then
    echo "$name: its base $base has not finished training (run its stage first; a fine-tune of a half-trained base means nothing)" >&2; exit 1
  fi
  local resume=() minutes
  if [[ -f $OUT/$name/checkpoint/state.json ]]; then resume=(--resume $OUT/$name/checkpoint); fi
  minutes=$(minutes_left "$FT_MINUTES")
  if [[ -n $DEADLINE ]] && (( minutes < 3 )); then echo "$name: skipped, DEADLINE $DEADLINE leaves $minutes minutes"; return; fi
  # shellcheck disable=SC2086 # the option strings are word lists
  time $T train --model $base "$@" $FT_COMMON --max-minutes "$minutes" $FT_EXTRA --out $OUT/$name "${resume[@]}"
  if [[ $STORE_SAVE == 1 ]]; then store_save "$name"; fi
}
# Summarization, with the validation split's summaries as the validation task.
has prompt && finetune prompt $OUT/base --data $SUMMARY --method prompt-tuning --virtual-tokens 20 --prompt-init text \
  --prompt-init-text "Summarize the dialogue in one sentence:" --lr 3e-2
has lora && finetune lora $OUT/base --data $SUMMARY --method lora $LORA
has qlora && finetune qlora $OUT/base --data $SUMMARY --method qlora --quantization nf4 $LORA
has full && finetune full $OUT/base --data $SUMMARY --method full --lr 5e-4 --weight-decay 0.01
# The second task, dialogue topic (short labels: what prompt tuning suits).
has topic-prompt && finetune topic-prompt $OUT/base --data $TOPIC --method prompt-tuning --virtual-tokens 20 --prompt-init text \
  --prompt-init-text "What is the topic of this dialogue?" --lr 3e-2
has topic-lora && finetune topic-lora $OUT/base --data $TOPIC --method lora $LORA
has topic-full && finetune topic-full $OUT/base --data $TOPIC --method full --lr 5e-4 --weight-decay 0.01
# Forgetting: summarization fine-tuned on top of the topic model, which then loses the topic task...
has forget && finetune summary-after-topic $OUT/topic-full --data $SUMMARY --method full --lr 5e-4 --weight-decay 0.01
# ...and multi-task training (summary 2 : topic 1) from the base, which keeps it. Its budget is the summary
# runs' FT_EPOCHS epochs of summaries: 3/2 draws of the mixture per training dialogue, in batches of 8 (12,460
# dialogues: 2,336 steps, 18,688 draws, 12,459 summaries expected and 6,229 topics), so it sees as many summaries
# as summary-after-topic (a whole mixture epoch would be 24,920 draws).
has multitask && finetune multitask $OUT/base --data "$DATA/train.jsonl:2:dialogue-summary" --data "$DATA/train.jsonl:1:dialogue-topic" \
  --method full --lr 5e-4 --weight-decay 0.01 --max-steps $(( $(grep -c . "$DATA/train.jsonl") * 3 / 2 * FT_EPOCHS / 8 ))

# Evaluation: the first EVAL_N validation dialogues, phrasing 0, greedy decoding, ROUGE/BLEU/exact match against
# the references, and the perplexity of held-out dialogue text (validation dialogues: never trained on).
# 1. Summarization (and the topic task beside it, to see what each summarizer kept of it): the cards of the
#    summarizers describe summarization (ROUGE-L).
# 2. Topic: the topic systems' cards describe the topic task (exact match; topic-full's card is rewritten).
present() { local out=() x; for x in "$@"; do if finished "${x#*=}"; then out+=("$x"); fi; done; echo "${out[@]}"; }
EVAL_COMMON="--limit $EVAL_N --max-length 384 --truncate-prompt --max-new-tokens 48 \
  --ppl-text $DATA/validation.jsonl --ppl-field dialogue --ppl-limit 100"
if has eval; then
  stamp eval-summary
  for n in base prompt lora qlora full topic-prompt topic-lora topic-full summary-after-topic multitask; do store_restore $n; done
  args=()
  for a in $(present prompt=prompt lora=lora qlora=qlora); do args+=(--adapter "${a%%=*}=$OUT/${a#*=}"); done
  for m in $(present full=full topic-full=topic-full summary-after-topic=summary-after-topic multitask=multitask); do args+=(--model "${m%%=*}=$OUT/${m#*=}"); done
  # shellcheck disable=SC2086
  time $T eval --model $OUT/base "${args[@]}" --data "$DATA/validation.jsonl::dialogue-summary#0" --data "$DATA/validation.jsonl::dialogue-topic#0" \
    $EVAL_COMMON --card-metric rougeL --out $OUT/eval
  if finished qlora; then
    stamp eval-qlora # the QLoRA adapter on the base it was trained on and is served on (NF4); its card is this one
    # shellcheck disable=SC2086
    time $T eval --model $OUT/base --quantization nf4 --base-name base-nf4 --adapter qlora=$OUT/qlora \
      --data "$DATA/validation.jsonl::dialogue-summary#0" $EVAL_COMMON --card-metric rougeL --out $OUT/eval-qlora
  fi
  stamp eval-topic
  args=()
  for a in $(present topic-prompt=topic-prompt topic-lora=topic-lora); do args+=(--adapter "${a%%=*}=$OUT/${a#*=}"); done
  if finished topic-full; then args+=(--model "topic-full=$OUT/topic-full"); fi
  # shellcheck disable=SC2086
  time $T eval --model $OUT/base "${args[@]}" --data "$DATA/validation.jsonl::dialogue-topic#0" \
    $EVAL_COMMON --card-metric exact_match --out $OUT/eval-topic
fi
stamp done
