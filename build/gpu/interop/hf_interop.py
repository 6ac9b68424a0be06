#!/usr/bin/env python3
"""Our checkpoints and adapters against Hugging Face's own libraries (build/gpu/run.sh, stage `interop`).

  prepare      trains adapters with `peft` on our synthetic checkpoint (LoRA, rsLoRA, prompt tuning) and saves them
  plan         lists what to compare (manifest.json): (a) our synthetic checkpoints and our trainer's full fine-tune
               through transformers.LlamaForCausalLM; (b) our trainer's LoRA, rsLoRA and prompt-tuning adapters
               through peft.PeftModel; (c) the adapters `prepare` trained, served by us
  ours         our side: the `logits` verb of our CLI for every item and prompt (safetensors files)
  serve-query  our server: greedy tokens and their logprobs for the items it serves
  compare      Hugging Face's side for every item: max |logit difference| against ours, top-1 agreement, and the
               server's logprobs against log_softmax of the same forward pass; writes the JSON report

`prepare` and `compare` need torch, transformers, peft and safetensors; without them they write a report saying
so and exit 0 (the CPU dry run has none of them). `plan`, `ours` and `serve-query` need only the standard library.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import urllib.request

LOGIT_TOLERANCE = 1e-3  # float32 on both sides; the goldens' bound
LOGPROB_TOLERANCE = 1e-3


def hf_stack():
    """(torch, transformers, peft, safetensors.torch) or the reason they cannot be imported."""
    try:
        import peft
        import safetensors.torch
        import torch
        import transformers
        return (torch, transformers, peft, safetensors.torch), None
    except Exception as e:  # noqa: BLE001 - the reason is the report
        return None, f"{type(e).__name__}: {e}"


def load_hf_model(stack, model_dir, device):
    torch, transformers, _, _ = stack
    major = int(transformers.__version__.split(".")[0])
    dtype_arg = {"dtype": torch.float32} if major >= 5 else {"torch_dtype": torch.float32}
    model = transformers.LlamaForCausalLM.from_pretrained(model_dir, attn_implementation="eager", **dtype_arg)
    return model.to(device).eval()


def pick_device(torch, wanted):
    if wanted.startswith("cuda") and torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = False  # float32 products in float32, as ours
        torch.backends.cudnn.allow_tf32 = False
        return wanted
    return "cpu"


# ---- prepare -----------------------------------------------------------------------------------------------------
def training_batches(torch, base_dir, data, count=16, length=64):
    """Token rows from the DialogSum slice (SentencePiece, the checkpoint's tokenizer.model), else seeded random ids."""
    g = torch.Generator().manual_seed(0)
    try:
        import sentencepiece
        sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(base_dir, "tokenizer.model"))
        ids = []
        for line in open(data):
            rec = json.loads(line)
            ids += [1] + sp.encode(rec["dialogue"] + "\nSummary: " + rec["summary"])
        rows = torch.tensor(ids[: count * length]).view(count, length)
        return rows, "dialogsum (sentencepiece)"
    except Exception:  # noqa: BLE001 - fall back to random ids, and say so
        return torch.randint(3, 32000, (count, length), generator=g), "random ids"


def prepare(a):
    stack, why = hf_stack()
    os.makedirs(a.out, exist_ok=True)
    if stack is None:
        json.dump({"skipped": why}, open(os.path.join(a.out, "prepare.json"), "w"))
        print("prepare skipped:", why)
        return 0
    torch, _, peft, _ = stack
    device = pick_device(torch, a.device)
    rows, source = training_batches(torch, a.base, a.data)
    configs = {
        "peft-lora": peft.LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=16, lora_dropout=0.0,
                                     target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]),
        "peft-rslora": peft.LoraConfig(task_type="CAUSAL_LM", r=16, lora_alpha=8, lora_dropout=0.0, use_rslora=True,
                                       target_modules=["q_proj", "v_proj"]),
        "peft-prompt": peft.PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=8),
    }
    report = {"device": device, "data": source, "peft": peft.__version__, "adapters": {}}
    for name, config in configs.items():
        torch.manual_seed(0)
        model = peft.get_peft_model(load_hf_model(stack, a.base, device), config)
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-2 if "prompt" in name else 1e-2)
        losses = []
        for step in range(20):
            batch = rows[(step * 4) % len(rows):][:4].to(device)
            loss = model(input_ids=batch, labels=batch).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(round(loss.item(), 4))
        model.save_pretrained(os.path.join(a.out, name), safe_serialization=True)
        report["adapters"][name] = {"first_loss": losses[0], "last_loss": losses[-1]}
        print(name, "loss", losses[0], "->", losses[-1])
    json.dump(report, open(os.path.join(a.out, "prepare.json"), "w"), indent=2)
    return 0


# ---- plan / ours / serve-query (standard library only) -----------------------------------------------------------
def plan(a):
    goldens = json.load(open(os.path.join(a.fixtures, "goldens.json")))
    fixture = next(f for f in goldens["fixtures"] if f["model"] == "tiny-llama")
    prompts = [fixture["prompts"][0]["ids"], fixture["prompts"][-1]["ids"]]
    w, items = a.work, []

    def add(group, name, model, adapter=None, mode="unmerged", served=None):
        items.append({"group": group, "name": name, "model": model, "adapter": adapter, "lora_mode": mode, "served": served})

    add("a", "synthetic-tiny", os.path.join(w, "models", "synth-tiny"))
    if os.path.exists(os.path.join(w, "bench", "tinyllama-1.1b.ready")):
        add("a", "synthetic-tinyllama-1.1b-bf16-weights", os.path.join(w, "bench", "tinyllama-1.1b-bfloat16"))
    if os.path.exists(os.path.join(w, "trained", "full.ready")):
        add("a", "trainer-full-finetune", os.path.join(w, "trained", "full"))
    fixture_dir = os.path.join(a.fixtures, "tiny-llama")
    add("a", "fixture-tiny-llama", fixture_dir, served="tiny-llama")
    for m in ["lora", "rslora", "prompt"]:
        if os.path.exists(os.path.join(w, "trained", m + ".ready")):
            d = os.path.join(w, "trained", m)
            add("b", f"trainer-{m}", fixture_dir, d, served=f"trained-{m}")
            if m != "prompt":
                add("b", f"trainer-{m}-merged", fixture_dir, d, mode="merged")
    for d in sorted(glob.glob(os.path.join(w, "interop", "peft", "peft-*"))):
        add("c", os.path.basename(d), os.path.join(w, "models", "synth-tiny"), d)
    manifest = {"prompts": prompts, "items": items, "dir": os.path.dirname(os.path.abspath(a.out)),
                "prepare_report": os.path.join(w, "interop", "peft", "prepare.json")}
    json.dump(manifest, open(a.out, "w"), indent=2)
    print(f"{len(items)} items:", ", ".join(i["name"] for i in items))
    return 0


def ours(a):
    m = json.load(open(a.manifest))
    out_dir = os.path.join(m["dir"], "ours")
    os.makedirs(out_dir, exist_ok=True)
    failed = 0
    for item in m["items"]:
        item["ours"] = []
        for k, ids in enumerate(m["prompts"]):
            path = os.path.join(out_dir, f"{item['name']}-p{k}.safetensors")
            cmd = [a.dotnet, a.dll, "logits", "--model", item["model"], "--prompt-ids", ",".join(map(str, ids)),
                   "--device", a.device, "--lora-mode", item["lora_mode"], "--out", path]
            if item["adapter"]:
                cmd += ["--adapter", item["adapter"]]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
            item["ours"].append({"file": path if r.returncode == 0 else None, "exit_code": r.returncode,
                                 "stderr": r.stderr[-1500:] if r.returncode else ""})
            failed += r.returncode != 0
            print(item["name"], f"p{k}", "exit", r.returncode, r.stdout.strip()[:200] if r.returncode == 0 else r.stderr.strip()[-300:])
    json.dump(m, open(a.manifest, "w"), indent=2)
    return 1 if failed else 0


def serve_query(a):
    m = json.load(open(a.manifest))
    failed = 0
    for item in m["items"]:
        if not item.get("served"):
            continue
        body = {"model": item["served"], "prompt": m["prompts"][0], "max_tokens": 8, "temperature": 0, "logprobs": 1,
                "ignore_eos": True, "return_token_ids": True}
        req = urllib.request.Request(a.url + "/v1/completions", json.dumps(body).encode(), {"content-type": "application/json"})
        try:
            choice = json.load(urllib.request.urlopen(req, timeout=120))["choices"][0]
            item["server"] = {"token_ids": choice["token_ids"], "token_logprobs": choice["logprobs"]["token_logprobs"]}
            print(item["name"], "served tokens", choice["token_ids"])
        except Exception as e:  # noqa: BLE001 - recorded per item
            item["server"] = {"error": str(e)}
            failed += 1
            print(item["name"], "server error", e)
    json.dump(m, open(a.manifest, "w"), indent=2)
    return 1 if failed else 0


# ---- compare -----------------------------------------------------------------------------------------------------
def hf_model(stack, item, device):
    """LlamaForCausalLM, wrapped in PeftModel when the item has an adapter; and the number of virtual tokens it prepends."""
    _, _, peft, _ = stack
    model = load_hf_model(stack, item["model"], device)
    virtual = 0
    if item["adapter"]:
        model = peft.PeftModel.from_pretrained(model, item["adapter"]).eval()
        if model.peft_config["default"].peft_type == peft.PeftType.PROMPT_TUNING:
            virtual = model.peft_config["default"].num_virtual_tokens
    return model, virtual


def hf_logits(torch, model, virtual, ids, device):
    """Hugging Face's logits [T, V] (float32, CPU) for one token sequence, without the virtual tokens' positions."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids], device=device)).logits[0].float()
    return (logits[virtual:] if logits.shape[0] == len(ids) + virtual else logits).cpu()


def compare_item(stack, m, item, device):
    torch, _, _, st = stack
    row = {k: item[k] for k in ["group", "name", "model", "adapter", "lora_mode"]}
    row["prompts"] = []
    model, virtual = hf_model(stack, item, device)
    for k, ids in enumerate(m["prompts"]):
        ours_file = (item.get("ours") or [{}] * len(m["prompts"]))[k].get("file")
        theirs = hf_logits(torch, model, virtual, ids, device)
        if not ours_file:
            row["prompts"].append({"prompt": k, "error": "our logits verb failed"})
            continue
        mine = st.load_file(ours_file)["logits"]
        diff = (mine - theirs).abs()
        row["prompts"].append({"prompt": k, "positions": len(ids), "max_abs_diff": diff.max().item(), "mean_abs_diff": diff.mean().item(),
                               "top1_agreement": (mine.argmax(1) == theirs.argmax(1)).float().mean().item()})
    server = item.get("server")
    if server and "token_ids" in server:
        seq = m["prompts"][0] + server["token_ids"]
        logp = torch.log_softmax(hf_logits(torch, model, virtual, seq, device), dim=-1)
        n = len(m["prompts"][0])
        hf_lp = [logp[n - 1 + j, t].item() for j, t in enumerate(server["token_ids"])]
        hf_greedy = [int(logp[n - 1 + j].argmax()) for j in range(len(server["token_ids"]))]
        row["server"] = {"tokens": server["token_ids"], "greedy_agreement": sum(a == b for a, b in zip(hf_greedy, server["token_ids"])) / len(hf_greedy),
                         "max_abs_logprob_diff": max(abs(a - b) for a, b in zip(hf_lp, server["token_logprobs"]))}
    elif server:
        row["server"] = server
    worst = [p["max_abs_diff"] for p in row["prompts"] if "max_abs_diff" in p]
    row["passed"] = (len(worst) == len(m["prompts"]) and max(worst) <= LOGIT_TOLERANCE
                     and (not server or row.get("server", {}).get("max_abs_logprob_diff", 1.0) <= LOGPROB_TOLERANCE))
    return row


def compare(a):
    stack, why = hf_stack()
    if stack is None:
        json.dump({"skipped": why}, open(a.out, "w"), indent=2)
        print("compare skipped:", why)
        return 0
    torch, transformers, peft, _ = stack
    device = pick_device(torch, a.device)
    m = json.load(open(a.manifest))
    rows = []
    for item in m["items"]:
        try:
            rows.append(compare_item(stack, m, item, device))
        except Exception as e:  # noqa: BLE001 - one item's failure is that item's result
            rows.append({"group": item["group"], "name": item["name"], "passed": False, "error": f"{type(e).__name__}: {e}"})
        print(json.dumps(rows[-1])[:400])
    prep = json.load(open(m["prepare_report"])) if os.path.exists(m["prepare_report"]) else None
    groups = {g: {"items": sum(r["group"] == g for r in rows), "passed": sum(r["group"] == g and r["passed"] for r in rows),
                  "max_abs_diff": max((p["max_abs_diff"] for r in rows if r["group"] == g for p in r.get("prompts", []) if "max_abs_diff" in p), default=None)}
              for g in ["a", "b", "c"]}
    report = {"device": device, "torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
              "tolerance": {"logits": LOGIT_TOLERANCE, "logprobs": LOGPROB_TOLERANCE}, "groups": groups, "peft_training": prep, "items": rows}
    json.dump(report, open(a.out, "w"), indent=2)
    return 0 if all(r["passed"] for r in rows) else 1


COMMANDS = {  # subcommand: (function, required options, options with defaults)
    "prepare": (prepare, ["base", "data", "out"], {"device": "cuda"}),
    "plan": (plan, ["work", "fixtures", "out"], {}),
    "ours": (ours, ["manifest", "dotnet", "dll"], {"device": "cuda"}),
    "serve-query": (serve_query, ["manifest", "url"], {}),
    "compare": (compare, ["manifest", "out"], {"device": "cuda"}),
}


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name, (_, required, defaults) in COMMANDS.items():
        s = sub.add_parser(name)
        for opt in required:
            s.add_argument("--" + opt, required=True)
        for opt, value in defaults.items():
            s.add_argument("--" + opt, default=value)
    a = p.parse_args()
    sys.exit(COMMANDS[a.cmd][0](a))


if __name__ == "__main__":
    main()
