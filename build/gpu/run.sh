#!/usr/bin/env bash
# The GPU bring-up run: unpacks the bundle (build/gpu/make-bundle.sh) into a temporary folder, points TorchSharp at
# the device's libtorch (the PyTorch wheel's torch/lib) and runs every check, each stage under its own time limit,
# so one failure never stops the rest. Every figure and log goes to $OUT (a handful of files, see docs/gpu-bringup.md).
#
#   OUT=/some/dir bash build/gpu/run.sh
#
# Settings (environment): DEVICE (cuda; the CPU dry run says cpu), TORCH_LIB (default: the torch/lib of python3's
# torch), BUNDLE (artifacts/gpu-bundle/bundle.tar.xz), RUN_BUDGET_S (540: the whole run, unpacking included),
# STAGES (all, or a space-separated list), BENCH_SHAPES ("tinyllama-1.1b llama-2-7b"), LOAD_SHAPE (tinyllama-1.1b),
# STAGE_TIME_SCALE (1; multiplies every stage's limit, for slow machines), LIBTORCHSHARP_OVERRIDE (a libLibTorchSharp.so to use instead of the bundle's, e.g. one built on the device to verify).
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
gpu="$repo/build/gpu"
BUNDLE="${BUNDLE:-$repo/artifacts/gpu-bundle/bundle.tar.xz}"
OUT="${OUT:-$repo/artifacts/gpu-out}"
DEVICE="${DEVICE:-cuda}"
RUN_BUDGET_S="${RUN_BUDGET_S:-540}"
STAGES="${STAGES:-all}"
BENCH_SHAPES="${BENCH_SHAPES:-tinyllama-1.1b llama-2-7b}"
LOAD_SHAPE="${LOAD_SHAPE:-tinyllama-1.1b}"
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1
T0=$(date +%s)

W="$(mktemp -d "${TMPDIR:-/tmp}/ih-gpu.XXXXXX")"
B="$W/b"          # the unpacked bundle
R="$W/results"    # everything that comes back (packed into $OUT/results.tar.gz after each stage)
mkdir -p "$B" "$R" "$W/home" "$W/tmp" "$W/models"
# shellcheck source=build/gpu/lib.sh
source "$gpu/lib.sh"

log "run.sh on $(uname -n): device=$DEVICE budget=${RUN_BUDGET_S}s stages=[$STAGES] work=$W"
[ -f "$BUNDLE" ] || { log "no bundle at $BUNDLE (build it with build/gpu/make-bundle.sh and carry artifacts/gpu-bundle)"; exit 2; }

# --- unpack (xz through tar, or Python's lzma where xz is missing) ---------------------------------------------
if command -v xz >/dev/null; then tar -C "$B" -xJf "$BUNDLE"; else python3 -c 'import sys,tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$BUNDLE" "$B"; fi \
  || { log "unpacking $BUNDLE failed"; exit 2; }
cp "$B/MANIFEST.txt" "$R/MANIFEST.txt"
log "unpacked $(du -sm "$B" | cut -f1) MiB: $(grep '^commit' "$B/MANIFEST.txt")"

# --- the device's libtorch and the environment our binaries run in ---------------------------------------------
if [ -z "${TORCH_LIB:-}" ]; then
  TORCH_LIB="$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))' 2>/dev/null || true)"
fi
[ -d "$TORCH_LIB" ] || { log "no libtorch folder (TORCH_LIB='$TORCH_LIB'; python3 -c 'import torch' failed?)"; finish 2; }
NV_LIBS="$(python3 "$gpu/env_report.py" --nvidia-lib-dirs 2>/dev/null || true)"
export LD_LIBRARY_PATH="$TORCH_LIB${NV_LIBS:+:$NV_LIBS}"
export DOTNET_ROOT="$B/dotnet" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 HOME="$W/home" TMPDIR="$W/tmp"
unset NUGET_PACKAGES
if ! ldconfig -p 2>/dev/null | grep -q 'libicuuc\.so'; then export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1; fi
DN="$B/dotnet/dotnet"
SRV="$B/app/InferenceHost/InferenceHost.dll"
TRAINER="$B/app/InferenceHost.Trainer/InferenceHost.Trainer.dll"
LOADTOOL="$B/app/InferenceHost.LoadTests/InferenceHost.LoadTests.dll"
FIX="$B/fixtures"
TOKENIZER="$FIX/tiny-llama/tokenizer.model"
export DN SRV TRAINER LOADTOOL FIX TOKENIZER DEVICE W B R gpu OUT T0 RUN_BUDGET_S STAGES BENCH_SHAPES LOAD_SHAPE

# TorchSharp's library as shipped needs GLIBCXX_3.4.32; the bundle's copy is patched to load without it.
libstdcxx="$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')"
if [ -n "$libstdcxx" ] && grep -qa 'GLIBCXX_3\.4\.32' "$libstdcxx"; then
  for d in "$B"/app/*/runtimes/linux-x64/native; do cp "$B/native-orig/libLibTorchSharp.so" "$d/libLibTorchSharp.so"; done
  LTS_CHOICE="as shipped ($libstdcxx has GLIBCXX_3.4.32)"
else
  LTS_CHOICE="patched (${libstdcxx:-no libstdc++ found} lacks GLIBCXX_3.4.32; see docs/native-loading.md)"
fi
if [ -n "${LIBTORCHSHARP_OVERRIDE:-}" ]; then # a library built by hand on the device, for verification only
  for d in "$B"/app/*/runtimes/linux-x64/native; do cp "$LIBTORCHSHARP_OVERRIDE" "$d/libLibTorchSharp.so"; done
  LTS_CHOICE="override $LIBTORCHSHARP_OVERRIDE (sha256 $(sha256sum "$LIBTORCHSHARP_OVERRIDE" | cut -c1-16))"
fi
LTS="$B/app/InferenceHost/runtimes/linux-x64/native/libLibTorchSharp.so"
log "libtorch: $TORCH_LIB; libLibTorchSharp.so: $LTS_CHOICE; invariant globalization: ${DOTNET_SYSTEM_GLOBALIZATION_INVARIANT:-0}"
python3 "$gpu/env_report.py" --out "$R/env.json" --torch-lib "$TORCH_LIB" --libtorchsharp "$LTS_CHOICE" || true

# --- stages -----------------------------------------------------------------------------------------------------
stage abi-probe 60 python3 "$gpu/abi_probe.py" --lib "$LTS" --torch-lib "$TORCH_LIB" --abi "$B/abi" \
  --used "$gpu/abi/libtorch-symbols-used.txt" --device "$DEVICE" --out "$R/abi-probe.json"
if [ "$(stage_rc abi-probe)" = 3 ]; then
  log "TorchSharp's native library cannot run on this libtorch: see abi-probe.json (missing symbols) — stopping here"
  finish 3
fi
stage device-probe 120 "$DN" "$SRV" device-probe --device "$DEVICE" --out "$R/device-probe.json"
probe_rc="$(stage_rc device-probe)"
if [ -n "$probe_rc" ] && [ "$probe_rc" != 0 ]; then
  log "TorchSharp did not run on $DEVICE: see device-probe.log — stopping here"
  finish 4
fi

# Slow preparations in the background while the checks run: synthetic checkpoints and our trainer's outputs.
background_prepare

stage conformance-fp32 180 "$DN" "$SRV" conformance --fixtures "$FIX" --device "$DEVICE" --dtype float32 --out "$R/conformance-fp32.json"
stage generate-cli 150 generate_cli
stage server-conformance 240 server_conformance
stage bf16 180 bf16_checks
stage interop 300 interop
for shape in $BENCH_SHAPES; do
  stage "bench-$shape" 240 bench_shape "$shape"
  [ "$shape" = "$LOAD_SHAPE" ] && stage loadtest 300 loadtest "$LOAD_SHAPE"
done
finish 0
