#!/usr/bin/env python3
"""Summary of a device run (build/gpu/run.sh): $OUT/summary.json and $OUT/summary.md from the results folder.

  summarize.py --results DIR --out DIR [--print]

Each section reads its stage's JSON or Markdown; a stage that did not run or failed leaves its section empty, with
the stage's exit code in the stage table. Figures are copied, never computed here beyond counts and maxima.
"""
import argparse
import glob
import json
import os


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def stages(results):
    rows = []
    for line in (text(os.path.join(results, "stages.tsv")) or "").splitlines():
        name, rc, secs, at = (line.split("\t") + ["", "", "", ""])[:4]
        rows.append({"stage": name, "exit_code": rc, "seconds": secs, "ended_at_s": at})
    return rows


def conformance_rows(report):
    return [{k: r[k] for k in ["fixture", "mode", "kind", "cases", "passed", "tokens_match", "max_top5_error"]} for r in (report or {}).get("runs", [])]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--results", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--print", action="store_true")
    a = p.parse_args()
    r = a.results
    env = load(os.path.join(r, "env.json")) or {}
    abi = load(os.path.join(r, "abi-probe.json")) or {}
    server = {os.path.basename(f)[len("server-conformance-"):-5]: conformance_rows(load(f))
              for f in sorted(glob.glob(os.path.join(r, "server-conformance-*.json")))}
    gen = load(os.path.join(r, "generate-cli.json")) or {}
    dtype = load(os.path.join(r, "dtype-compare-bf16.json")) or {}
    interop = load(os.path.join(r, "interop.json")) or {}
    summary = {
        "manifest": text(os.path.join(r, "MANIFEST.txt")),
        "environment": {k: env.get(k) for k in ["torch", "packages", "nvidia_smi", "glibcxx_max", "libtorchsharp_copy"]},
        "stages": stages(r),
        "abi": {k: abi.get(k) for k in ["verdict", "imports", "missing", "missing_bound_at_load", "missing_used", "rtld_now_load"]},
        "device_probe": load(os.path.join(r, "device-probe.json")),
        "conformance_fp32": conformance_rows(load(os.path.join(r, "conformance-fp32.json"))),
        "generate_cli": {k: gen.get(k) for k in ["cases", "passed"]},
        "server_conformance": server,
        "conformance_bf16": conformance_rows(load(os.path.join(r, "conformance-bf16.json"))),
        "bf16_vs_fp32": [{k: v for k, v in f.items() if k != "per_case"} for f in dtype.get("fixtures", [])],
        "interop": {k: interop.get(k) for k in ["skipped", "device", "torch", "transformers", "peft", "groups"]},
        "interop_items": [{k: i.get(k) for k in ["group", "name", "passed", "prompts", "server", "error"]} for i in interop.get("items", [])],
    }
    md = ["# GPU bring-up run", "", "```", summary["manifest"] or "(no manifest)", "```", "",
          "| stage | exit | seconds | ended at (s) |", "| --- | --- | --- | --- |"]
    md += [f"| {s['stage']} | {s['exit_code']} | {s['seconds']} | {s['ended_at_s']} |" for s in summary["stages"]]
    md += ["", "## Environment", "", "```json", json.dumps(summary["environment"], indent=1), "```", "",
           "## ABI probe", "", "```json", json.dumps(summary["abi"], indent=1), "```", "",
           "## Device probe", "", "```json", json.dumps(summary["device_probe"], indent=1), "```", ""]
    for title, key in [("Golden conformance, float32 (engine)", "conformance_fp32"), ("Golden conformance, bfloat16 (report only)", "conformance_bf16")]:
        md += [f"## {title}", "", "| fixture | mode | kind | cases | passed | tokens match | max top-5 logit error |", "| --- | --- | --- | --- | --- | --- | --- |"]
        md += [f"| {x['fixture']} | {x['mode']} | {x['kind']} | {x['cases']} | {x['passed']} | {x['tokens_match']} | {x['max_top5_error']} |" for x in summary[key]]
        md.append("")
    md += ["## generate CLI", "", json.dumps(summary["generate_cli"]), "", "## Server (HTTP) conformance", ""]
    md += [f"- {k}: " + ", ".join(f"{x['kind']} {x['passed']}/{x['cases']}" for x in v) for k, v in server.items()]
    md += ["", "## bfloat16 against float32 (logits at every prompt position)", "", "```json", json.dumps(summary["bf16_vs_fp32"], indent=1), "```", "",
           "## Interop with transformers / peft", "", "```json", json.dumps(summary["interop"], indent=1), "```", ""]
    for i in summary["interop_items"]:
        worst = max((p.get("max_abs_diff", float("nan")) for p in i.get("prompts") or []), default=None)
        md.append(f"- ({i['group']}) {i['name']}: passed={i['passed']} max|Δlogit|={worst} server={json.dumps(i.get('server'))} {i.get('error') or ''}")
    for f in sorted(glob.glob(os.path.join(r, "bench*.md"))) + sorted(glob.glob(os.path.join(r, "loadtest", "report.md"))):
        md += ["", f"## {os.path.relpath(f, r)}", "", text(f) or ""]
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    with open(os.path.join(a.out, "summary.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    if a.print:
        print("\n".join(md))


if __name__ == "__main__":
    main()
