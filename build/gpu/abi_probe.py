#!/usr/bin/env python3
"""Can TorchSharp's native library run on this libtorch? (build/gpu/run.sh, before any of our binaries start.)

Loads the device's libtorch (c10, torch_cpu, torch and, for CUDA, c10_cuda and torch_cuda) into this process with
RTLD_GLOBAL and looks up every symbol libLibTorchSharp.so imports (the bundle's abi/undefined.txt, from nm). A
missing symbol matters in two cases: it is bound when the library loads (abi/bound-at-load.txt: data, vtables,
typeinfo, function pointers stored in data; the loader refuses the library), or our workload calls it
(abi/libtorch-symbols-used.txt, traced with LD_DEBUG=bindings on the CPU run; the process would die at the first
call). Either stops the run (exit code 3) with the list; other missing symbols are reported and tolerated, since
the library binds functions lazily. Also records what an immediate-binding load (RTLD_NOW) and `ldd -r` say.
"""
import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys


def read_lines(path):
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lib", required=True, help="libLibTorchSharp.so to check")
    p.add_argument("--torch-lib", required=True, help="the libtorch folder (torch/lib of the wheel)")
    p.add_argument("--abi", required=True, help="the bundle's abi/ folder")
    p.add_argument("--used", help="symbols our workload binds (one mangled name a line)")
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", required=True)
    a = p.parse_args()

    names = ["libc10.so", "libtorch_cpu.so", "libtorch.so"] + (["libc10_cuda.so", "libtorch_cuda.so"] if a.device.startswith("cuda") else [])
    loaded, errors = [], {}
    for n in names:
        try:
            ctypes.CDLL(os.path.join(a.torch_lib, n), mode=os.RTLD_GLOBAL)
            loaded.append(n)
        except OSError as e:
            errors[n] = str(e)

    entries = [l.split(" ", 1) for l in read_lines(os.path.join(a.abi, "undefined.txt"))]
    demangled = read_lines(os.path.join(a.abi, "undefined-demangled.txt"))
    pretty = dict(zip([e[1] for e in entries], demangled)) if demangled and len(demangled) == len(entries) else {}
    at_load = set(read_lines(os.path.join(a.abi, "bound-at-load.txt")) or [])
    used_list = read_lines(a.used)
    used = set(used_list or [])

    scope = ctypes.CDLL(None)
    missing = []
    for kind, name in entries:
        if kind.lower() == "w":
            continue  # weak: allowed to stay undefined
        try:
            getattr(scope, name)
        except AttributeError:
            missing.append(name)

    def show(ns):
        return [{"symbol": n, "demangled": pretty.get(n, n)} for n in sorted(ns)]

    missing_at_load = [n for n in missing if n in at_load]
    missing_used = [n for n in missing if n in used]
    now = {"ok": True}
    try:
        ctypes.CDLL(a.lib, mode=os.RTLD_GLOBAL)  # ctypes always adds RTLD_NOW: every symbol bound at once
    except OSError as e:
        now = {"ok": False, "error": str(e)}
    ldd = None
    if shutil.which("ldd"):
        r = subprocess.run(["ldd", "-r", a.lib], capture_output=True, text=True, timeout=60)
        ldd = [l.strip() for l in (r.stdout + r.stderr).splitlines() if "undefined symbol" in l or "not found" in l]

    stop = bool(errors) or bool(missing_at_load) or bool(missing_used)
    report = {
        "libtorchsharp": a.lib, "torch_lib": a.torch_lib, "libtorch_loaded": loaded, "libtorch_load_errors": errors,
        "imports": len(entries), "bound_at_load": len(at_load), "used_by_our_workload": len(used) if used_list is not None else None,
        "missing": len(missing), "missing_bound_at_load": show(missing_at_load), "missing_used": show(missing_used),
        "missing_other": show(set(missing) - set(missing_at_load) - set(missing_used)),
        "rtld_now_load": now, "ldd_r_problems": ldd,
        "verdict": "stop: TorchSharp's native library cannot run here" if stop else
                   ("ok" if not missing else "ok: only symbols our workload never binds are missing (lazy binding)"),
    }
    with open(a.out, "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps({k: report[k] for k in ["libtorch_loaded", "libtorch_load_errors", "imports", "missing", "verdict"]}))
    for m in report["missing_bound_at_load"] + report["missing_used"]:
        print("  missing:", m["demangled"])
    sys.exit(3 if stop else 0)


if __name__ == "__main__":
    main()
