#!/usr/bin/env python3
"""Prints the Markdown run table of docs/experiments.md from the trainer's report.json files.

    python3 scripts/experiment-summary.py artifacts/dialogsum
"""
import json, os, sys

root = sys.argv[1] if len(sys.argv) > 1 else "artifacts/dialogsum"
print("| run | method | trainable params | share of total | output on disk | steps | train tokens | tokens/s | train wall time | final train loss (mean of last 10 steps) | best validation loss (step) |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for run in ["base", "prompt", "lora", "full"]:
    path = os.path.join(root, run, "training", "report.json")
    if not os.path.exists(path):
        continue
    r = json.load(open(path))
    evals = [e for e in r["evaluations"] if e["validation_loss"] is not None]
    best = min(evals, key=lambda e: e["validation_loss"]) if evals else None
    size = r["output_bytes"]
    size_text = f"{size / 1024:,.1f} KiB" if size < 1 << 20 else f"{size / (1 << 20):,.1f} MiB"
    print(f"| {run} | {r['method']} | {r['trainable_parameters']:,} | {100 * r['trainable_share']:.3g}% | {size_text} | {r['steps_run']} | "
          f"{r['train_tokens']:,} | {r['tokens_per_second']:.0f} | {r['train_seconds'] / 60:.1f} min | {r['final_train_loss']:.3f} | "
          + (f"{best['validation_loss']:.3f} ({best['step']})" if best else "-") + " |")
