#!/usr/bin/env bash
# The DialogSum experiment of docs/experiments.md: learn a 4k byte-level BPE on the training dialogues,
# pre-train the dialogsum-6m shape on them (resumable, in as many invocations as it takes), then prompt
# tuning, LoRA and full fine-tuning for dialogue summarization, then evaluate all four (and the forgetting
# of the pre-training text) on the validation split.
#
#   scripts/dialogsum-experiment.sh                                   # everything (many hours on 2 cores)
#   STAGES="build tokenizer pretrain" PRETRAIN_MINUTES=20 scripts/dialogsum-experiment.sh
#                       # 20 minutes of pre-training, then a checkpoint; the same command again resumes it,
#                       # until the planned PRETRAIN_STEPS are done (then the stage is skipped)
#   STAGES="eval" scripts/dialogsum-experiment.sh                     # only some stages
#
# Stages: build tokenizer pretrain prompt lora full eval. Outputs under $OUT (default artifacts/dialogsum,
# git-ignored); docs/experiments.md quotes them. NICE (default 10) is the niceness of every training stage.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/dialogsum}
OUT=${OUT:-artifacts/dialogsum}
BIN=${BIN:-artifacts/trainer-bin}
STAGES=${STAGES:-"build tokenizer pretrain prompt lora full eval"}
SEED=${SEED:-42}
NICE=${NICE:-10}
THREADS=${THREADS:-0}                  # 0 = libtorch's default (one per core)
VOCAB=${VOCAB:-4096}
SHAPE=${SHAPE:-dialogsum-6m}
# 12,000 steps × 8 blocks × 256 tokens = 24.6 M tokens ≈ 10 passes over the 2.43 M tokens of the dialogues.
PRETRAIN_STEPS=${PRETRAIN_STEPS:-12000}
PRETRAIN_MINUTES=${PRETRAIN_MINUTES:-0} # > 0: stop after this many minutes with a checkpoint; rerun to resume
FT_EPOCHS=${FT_EPOCHS:-1}              # passes over the 12,460 training dialogues per fine-tune
EVAL_N=${EVAL_N:-500}                  # validation dialogues evaluated (all 500)
FT_EXTRA=${FT_EXTRA:-}                 # appended to every fine-tune (a later value wins), e.g. "--max-steps 2" for a smoke run
mkdir -p "$OUT"
has() { [[ " $STAGES " == *" $1 "* ]]; }
T="nice -n $NICE dotnet $BIN/InferenceHost.Trainer.dll"
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }

if has build; then
  stamp build
  dotnet build src/InferenceHost.Trainer -c Release -o "$BIN" -v quiet -nologo
fi

# 1. Tokenizer: byte-level BPE, 4,096 ids (256 bytes, merges, <s> </s> <pad>), learned on the training
#    dialogues less the 2% pre-training holds out (same --val-split and --split-seed).
if has tokenizer; then
  stamp tokenizer
  $T train-tokenizer --text $DATA/train.jsonl --text-field dialogue --val-split 0.02 --split-seed $SEED \
    --vocab-size $VOCAB --out $OUT/tokenizer
fi

# 2. Base: the dialogsum-6m shape (hidden 256, 8 layers, SwiGLU 688, tied 4k embeddings; 86% of the weights
#    outside the embedding), causal-LM loss on every token, packed 256-token blocks, cosine over
#    PRETRAIN_STEPS, checkpoints every 5 minutes; an invocation with PRETRAIN_MINUTES stops with a
#    checkpoint, and the next one resumes from it (the same data plan and schedule, so the result does not
#    depend on how the run was cut).
if has pretrain; then
  stamp pretrain
  RESUME=()
  if [[ -f $OUT/base/training/report.json ]] && grep -q '"stopped_at_time_limit": false' $OUT/base/training/report.json; then
    echo "pre-training already finished ($OUT/base/training/report.json); remove $OUT/base to start again"
  else
    if [[ -f $OUT/base/checkpoint/state.json ]]; then RESUME=(--resume $OUT/base/checkpoint); fi
    time $T pretrain --tokenizer $OUT/tokenizer --shape $SHAPE --max-positions 512 --init-seed $SEED \
      --text $DATA/train.jsonl --text-field dialogue --val-split 0.02 --split-seed $SEED \
      --max-length 256 --batch-size 8 --max-steps $PRETRAIN_STEPS --lr 2e-3 --warmup 200 --min-lr-ratio 0.1 \
      --eval-every 50 --eval-loss-samples 64 --save-every-minutes 5 --max-minutes $PRETRAIN_MINUTES \
      --threads $THREADS --seed $SEED --out $OUT/base "${RESUME[@]}"
  fi
fi

# Fine-tuning: the dialogue-summary template library (4 phrasings), prompt loss masked, dialogues longer
# than the budget shortened in the middle of the prompt (--truncate-prompt), the same data order (seed),
# FT_EPOCHS passes over the 12,460 dialogues for each method.
FT="--model $OUT/base --data $DATA/train.jsonl:1:dialogue-summary --validation $DATA/validation.jsonl \
  --max-length 384 --truncate-prompt --batch-size 8 --epochs $FT_EPOCHS --warmup 50 \
  --eval-every 200 --eval-loss-samples 64 --eval-rouge-samples 16 --max-new-tokens 48 \
  --save-every-minutes 10 --threads $THREADS --seed $SEED $FT_EXTRA"
if has prompt; then
  stamp prompt-tuning
  time $T train --method prompt-tuning --virtual-tokens 20 --prompt-init text \
    --prompt-init-text "Summarize the dialogue in one sentence:" --lr 3e-2 $FT --out $OUT/prompt
fi
if has lora; then
  stamp lora
  time $T train --method lora --rank 16 --alpha 32 --targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj \
    --lr 2e-3 $FT --out $OUT/lora
fi
if has full; then
  stamp full
  time $T train --method full --lr 5e-4 --weight-decay 0.01 $FT --out $OUT/full
fi

# Evaluation: the first EVAL_N validation dialogues, greedy decoding, ROUGE/BLEU against the references,
# and perplexity of held-out dialogue text (validation dialogues: never trained on) before and after.
if has eval; then
  stamp eval
  time $T eval --model $OUT/base --adapter prompt=$OUT/prompt --adapter lora=$OUT/lora --model full=$OUT/full \
    --data $DATA/validation.jsonl --template "dialogue-summary#0" --limit $EVAL_N --max-length 384 --truncate-prompt --max-new-tokens 48 \
    --ppl-text $DATA/validation.jsonl --ppl-field dialogue --ppl-limit 100 --out $OUT/eval
fi
stamp done
