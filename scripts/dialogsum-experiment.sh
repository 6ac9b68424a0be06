#!/usr/bin/env bash
# The DialogSum experiment of docs/experiments.md: pre-train a small Llama on the training dialogues, then
# prompt tuning, LoRA and full fine-tuning for dialogue summarization, then evaluate all four (and the
# forgetting of the pre-training text) on a sample of the validation split.
#
#   scripts/dialogsum-experiment.sh            # everything, ~35-40 min on 2 CPU cores
#   STAGES="eval" scripts/dialogsum-experiment.sh   # only some stages (pretrain prompt lora full eval)
#
# Outputs under artifacts/dialogsum/ (git-ignored); docs/experiments.md quotes them.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/dialogsum}
TOKENIZER=${TOKENIZER:-../shared/fixtures/tiny-llama/tokenizer.model}   # Llama 2 SentencePiece, 32k vocab; used by path
OUT=${OUT:-artifacts/dialogsum}
BIN=${BIN:-artifacts/trainer-bin}
STAGES=${STAGES:-"build pretrain prompt lora full eval"}
SEED=${SEED:-42}
EVAL_N=${EVAL_N:-50}
mkdir -p "$OUT"
has() { [[ " $STAGES " == *" $1 "* ]]; }
T="dotnet $BIN/InferenceHost.Trainer.dll"
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }

if has build; then
  stamp build
  dotnet build src/InferenceHost.Trainer -c Release -o "$BIN" -v quiet -nologo
fi

# 1. Base: random Llama (hidden 128, 4 layers, 4 heads, SwiGLU 344, tied 32k embeddings) trained on the
#    training dialogues only (causal-LM loss on every token, packed 256-token blocks).
if has pretrain; then
  stamp pretrain
  time $T pretrain --tokenizer $TOKENIZER \
    --hidden 128 --num-layers 4 --heads 4 --kv-heads 4 --intermediate 344 --max-positions 512 --init-seed $SEED \
    --text $DATA/train.jsonl --text-field dialogue --val-split 0.02 --split-seed $SEED \
    --max-length 256 --batch-size 8 --max-steps ${PRETRAIN_STEPS:-110} --lr 3e-3 --warmup 10 --min-lr-ratio 0.1 \
    --eval-every 55 --eval-loss-samples 32 --seed $SEED --out $OUT/base
fi

# Fine-tuning: the dialogue-summary template library (4 phrasings), prompt loss masked, dialogues longer
# than the budget shortened in the middle of the prompt (--truncate-prompt), the same data order (seed)
# and step count for the three methods.
FT="--model $OUT/base --data $DATA/train.jsonl:1:dialogue-summary --validation $DATA/validation.jsonl \
  --max-length 320 --truncate-prompt --batch-size 8 --max-steps ${FT_STEPS:-36} --warmup 4 \
  --eval-every 18 --eval-loss-samples 32 --eval-rouge-samples 8 --max-new-tokens 40 --seed $SEED"
if has prompt; then
  stamp prompt-tuning
  time $T train --method prompt-tuning --virtual-tokens 20 --prompt-init text \
    --prompt-init-text "Summarize the dialogue in one sentence:" --lr 3e-2 $FT --out $OUT/prompt
fi
if has lora; then
  stamp lora
  time $T train --method lora --rank 8 --alpha 16 --targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj \
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
    --data $DATA/validation.jsonl --template "dialogue-summary#0" --limit $EVAL_N --max-length 320 --truncate-prompt --max-new-tokens 48 \
    --ppl-text $DATA/validation.jsonl --ppl-field dialogue --ppl-limit 60 --out $OUT/eval
fi
stamp done
