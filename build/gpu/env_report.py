#!/usr/bin/env python3
"""What the device run found: GPU, driver, Python packages, libtorch files, C++ runtime (for build/gpu/run.sh).

  env_report.py --out env.json --torch-lib DIR --libtorchsharp "which copy was used"
  env_report.py --nvidia-lib-dirs      # prints the pip-installed NVIDIA library folders, ':'-separated
"""
import argparse
import glob
import importlib
import json
import os
import platform
import re
import subprocess
import sys


def nvidia_lib_dirs():
    """Folders of the nvidia-* wheels' shared libraries (libcudart, libcublas, ...), which libtorch_cuda.so needs."""
    dirs = set()
    for site in sys.path:
        for lib in glob.glob(os.path.join(site, "nvidia", "**", "lib*.so*"), recursive=True):
            dirs.add(os.path.dirname(lib))
    return sorted(dirs)


def version(module):
    try:
        return getattr(importlib.import_module(module), "__version__", "?")
    except Exception as e:  # noqa: BLE001 - any import failure is a fact to report
        return f"not importable: {type(e).__name__}: {e}"


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as e:  # noqa: BLE001
        return f"{cmd[0]} failed: {e}"


def glibcxx_versions(path):
    try:
        data = open(path, "rb").read()
    except OSError:
        return []
    found = set(re.findall(rb"GLIBCXX_3\.4\.(\d+)", data))
    return sorted(int(v) for v in found)


def torch_facts():
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        return {"importable": False, "error": str(e)}
    facts = {"version": torch.__version__, "cuda": torch.version.cuda, "cxx11_abi": torch.compiled_with_cxx11_abi(),
             "cuda_available": torch.cuda.is_available()}
    if torch.cuda.is_available():
        facts["device"] = torch.cuda.get_device_name(0)
        facts["capability"] = list(torch.cuda.get_device_capability(0))
        facts["memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
    return facts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out")
    p.add_argument("--torch-lib", default="")
    p.add_argument("--libtorchsharp", default="")
    p.add_argument("--nvidia-lib-dirs", action="store_true")
    a = p.parse_args()
    if a.nvidia_lib_dirs:
        print(":".join(nvidia_lib_dirs()))
        return
    libstdcxx = next((l.split(" => ")[-1] for l in run(["ldconfig", "-p"]).splitlines() if "libstdc++.so.6 " in l and "x86-64" in l), "")
    report = {
        "host": platform.node(), "kernel": platform.release(), "python": sys.version.split()[0],
        "glibc": platform.libc_ver()[1], "libstdcxx": libstdcxx, "glibcxx_max": max(glibcxx_versions(libstdcxx), default=None),
        "torch": torch_facts(),
        "packages": {m: version(m) for m in ["transformers", "peft", "safetensors", "tokenizers", "sentencepiece", "numpy", "accelerate"]},
        "torch_lib": a.torch_lib, "torch_lib_files": sorted(os.listdir(a.torch_lib)) if os.path.isdir(a.torch_lib) else [],
        "nvidia_lib_dirs": nvidia_lib_dirs(), "libtorchsharp_copy": a.libtorchsharp,
        "nvidia_smi": run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem", "--format=csv,noheader"]),
        "tools": {t: bool(run(["sh", "-c", f"command -v {t}"])) for t in ["xz", "ldd", "nm", "c++filt", "gcc", "curl"]},
    }
    with open(a.out, "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps({k: report[k] for k in ["torch", "packages", "glibcxx_max", "nvidia_smi"]}))


if __name__ == "__main__":
    main()
