#!/usr/bin/env python3
"""Golden cases through our `generate` CLI (one process per case), checked against goldens.json.

One case per (fixture, adapter): the base and each adapter once, the LoRAs in both --lora-mode values, so the CLI
path is covered without a process start for each of the 42 cases (every case runs in-process through the same
engine in the `conformance` stage). Writes a JSON report; exit code 1 if a case differs.
"""
import argparse
import json
import os
import subprocess
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dotnet", required=True)
    p.add_argument("--dll", required=True)
    p.add_argument("--fixtures", required=True)
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    goldens = json.load(open(os.path.join(a.fixtures, "goldens.json")))
    results = []
    for f in goldens["fixtures"]:
        seen = set()
        for c in f["cases"]:
            if c["adapter"] in seen:
                continue
            seen.add(c["adapter"])
            adapter_dir = os.path.join(a.fixtures, f["model"], "adapters", c["adapter"]) if c["adapter"] else None
            is_lora = adapter_dir and json.load(open(os.path.join(adapter_dir, "adapter_config.json")))["peft_type"] == "LORA"
            for mode in (["unmerged", "merged"] if is_lora else ["unmerged"]):
                cmd = [a.dotnet, a.dll, "generate", "--model", os.path.join(a.fixtures, f["model"]), "--prompt", f["prompts"][c["prompt"]]["text"],
                       "--max-tokens", str(f["greedy_tokens"]), "--temperature", "0", "--json", "--device", a.device, "--lora-mode", mode]
                if adapter_dir:
                    cmd += ["--adapter", adapter_dir]
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
                row = {"fixture": f["model"], "adapter": c["adapter"], "prompt": c["prompt"], "lora_mode": mode, "exit_code": r.returncode}
                try:
                    got = json.loads(r.stdout.strip().splitlines()[-1])
                    row["prompt_ids_match"] = got["prompt_token_ids"] == f["prompts"][c["prompt"]]["ids"]
                    row["tokens_match"] = got["token_ids"] == c["greedy"]
                    if not row["tokens_match"]:
                        row["tokens"], row["golden"] = got["token_ids"], c["greedy"]
                except (ValueError, IndexError, KeyError):
                    row["prompt_ids_match"] = row["tokens_match"] = False
                    row["stderr"] = r.stderr[-2000:]
                row["passed"] = r.returncode == 0 and row["prompt_ids_match"] and row["tokens_match"]
                print(json.dumps(row))
                results.append(row)
    report = {"verb": "generate-cli", "device": a.device, "cases": len(results), "passed": sum(r["passed"] for r in results), "runs": results}
    json.dump(report, open(a.out, "w"), indent=2)
    sys.exit(0 if report["passed"] == report["cases"] else 1)


if __name__ == "__main__":
    main()
