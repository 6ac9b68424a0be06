#!/usr/bin/env bash
# Builds the GPU bring-up bundle: our published binaries without the CPU libtorch, the .NET and ASP.NET Core
# runtimes of this machine's SDK, the conformance fixtures and a data slice, packed as one .tar.xz that the
# device run carries (build/gpu/run.sh unpacks it). What is in it and why: docs/gpu-bringup.md.
#
#   build/gpu/make-bundle.sh [--out artifacts/gpu-bundle] [--fixtures ../shared/fixtures] [--data ../shared/data/dialogsum]
#
# Everything it writes is under the (git-ignored) output folder; the staging folder is removed at the end.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$repo/artifacts/gpu-bundle"
fixtures="${INFERENCEHOST_FIXTURES:-$repo/../shared/fixtures}"
data="$repo/../shared/data/dialogsum"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --fixtures) fixtures="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    *) echo "make-bundle: unknown option $1" >&2; exit 2 ;;
  esac
done

# What travels to the device is the working tree plus this bundle, 64 MiB in all: keep the bundle well below.
limit_mib=50
die() { echo "make-bundle: error: $*" >&2; exit 1; }
say() { echo "[$(date +%H:%M:%S)] $*"; }

[ -f "$fixtures/goldens.json" ] || die "no goldens.json in $fixtures (give --fixtures)"
[ -f "$data/train.jsonl" ] || die "no train.jsonl in $data (give --data)"
for tool in dotnet xz tar nm c++filt readelf sha256sum python3; do command -v "$tool" >/dev/null || die "$tool is required"; done

stage="$repo/artifacts/gpu-stage"
rm -rf "$stage" "$out"
mkdir -p "$stage/app" "$stage/dotnet" "$stage/abi" "$stage/native-orig" "$stage/data" "$out"

# 1. Our binaries, framework-dependent (the runtimes travel separately, once).
for proj in src/InferenceHost/InferenceHost.csproj src/InferenceHost.Trainer/InferenceHost.Trainer.csproj \
            loadtests/InferenceHost.LoadTests/InferenceHost.LoadTests.csproj; do
  name="$(basename "$proj" .csproj)"
  say "publishing $name"
  nice -n 10 dotnet publish "$repo/$proj" -c Release --no-self-contained -p:UseAppHost=false -o "$stage/app/$name" -v q -nologo >/dev/null
done

# 2. Strip every native library but TorchSharp's own (and our GLIBCXX shim, see docs/native-loading.md): the
#    device's libtorch is the PyTorch wheel's torch/lib, found through LD_LIBRARY_PATH by run.sh.
for app in "$stage"/app/*; do
  [ -d "$app/runtimes" ] || continue
  find "$app/runtimes" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
  if [ -d "$app/runtimes/linux-x64/native" ]; then
    find "$app/runtimes/linux-x64/native" -type f ! -name libLibTorchSharp.so ! -name libios_base_library_init.so \
      ! -name libSkiaSharp.so ! -name libHarfBuzzSharp.so -delete # the last two draw the trainer's plots
  fi
  rm -f "$app"/web.config
done
# Files the trainer and the load tool share with the server become hard links (tar stores them once).
for app in "$stage/app/InferenceHost.Trainer" "$stage/app/InferenceHost.LoadTests"; do
  (cd "$app" && find . -type f) | while read -r f; do
    if [ -f "$stage/app/InferenceHost/$f" ] && cmp -s "$app/$f" "$stage/app/InferenceHost/$f"; then ln -f "$stage/app/InferenceHost/$f" "$app/$f"; fi
  done
done
server_native="$stage/app/InferenceHost/runtimes/linux-x64/native"
[ -f "$server_native/libLibTorchSharp.so" ] || die "libLibTorchSharp.so missing from the server's publish output"

# 3. TorchSharp's library as shipped (unpatched): run.sh uses it where the device's libstdc++ has GLIBCXX_3.4.32.
ts_version="$(sed -n 's/.*PackageVersion Include="TorchSharp-cpu" Version="\([^"]*\)".*/\1/p' "$repo/Directory.Packages.props")"
ts_native="${NUGET_PACKAGES:-$HOME/.nuget/packages}/torchsharp/$ts_version/runtimes/linux-x64/native/libLibTorchSharp.so"
[ -f "$ts_native" ] || die "TorchSharp $ts_version's libLibTorchSharp.so not in the NuGet cache ($ts_native)"
cp "$ts_native" "$stage/native-orig/libLibTorchSharp.so"

# 4. The symbols it imports (the device has no guarantee of binutils): mangled, demangled, and how each is bound.
nm -D --undefined-only "$ts_native" | awk '{sub(/@.*/, "", $2); print $1, $2}' | sort -u -k2 > "$stage/abi/undefined.txt"
awk '{print $2}' "$stage/abi/undefined.txt" | c++filt > "$stage/abi/undefined-demangled.txt"
readelf -r --wide "$ts_native" | awk '$3 ~ /R_X86_64_(GLOB_DAT|64|TPOFF64|DTPMOD64|DTPOFF64|COPY)/ && $5 != "" {print $5}' \
  | sed 's/@.*//' | sort -u > "$stage/abi/bound-at-load.txt"

# 5. The runtimes this SDK runs on, without the debugger/tracing-only natives.
dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
netcore="$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" {v=$2} END {print v}')"
aspnet="$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" {v=$2} END {print v}')"
[ -n "$netcore" ] && [ -n "$aspnet" ] || die "dotnet --list-runtimes shows no Microsoft.NETCore.App / Microsoft.AspNetCore.App"
fxr="$(ls -d "$dotnet_root"/host/fxr/* | sort -V | tail -n1)"
mkdir -p "$stage/dotnet/host/fxr" "$stage/dotnet/shared/Microsoft.NETCore.App" "$stage/dotnet/shared/Microsoft.AspNetCore.App"
cp "$dotnet_root/dotnet" "$stage/dotnet/"
cp -r "$fxr" "$stage/dotnet/host/fxr/"
cp -r "$dotnet_root/shared/Microsoft.NETCore.App/$netcore" "$stage/dotnet/shared/Microsoft.NETCore.App/"
cp -r "$dotnet_root/shared/Microsoft.AspNetCore.App/$aspnet" "$stage/dotnet/shared/Microsoft.AspNetCore.App/"
rm -f "$stage/dotnet/shared/Microsoft.NETCore.App/$netcore"/{libmscordaccore.so,libmscordbi.so,createdump,libcoreclrtraceptprovider.so,libclrgc.so,libclrgcexp.so}
# ASP.NET Core parts a minimal-API host never loads (MVC, Razor, Blazor components, SignalR, Identity): 9.6 MiB.
# The dry run (build/gpu/dry-run-cpu.sh) starts the server, the trainer and the load tool on what is left.
(cd "$stage/dotnet/shared/Microsoft.AspNetCore.App/$aspnet" && rm -f Microsoft.AspNetCore.Mvc*.dll Microsoft.AspNetCore.Razor*.dll \
  Microsoft.AspNetCore.Components*.dll Microsoft.AspNetCore.SignalR*.dll Microsoft.AspNetCore.Identity.dll Microsoft.Extensions.Identity.*.dll)

# 6. Fixtures (goldens and the two tiny checkpoints with their adapters) and a slice of DialogSum for training.
mkdir -p "$stage/fixtures"
cp "$fixtures/goldens.json" "$fixtures/README.md" "$stage/fixtures/"
[ -f "$fixtures/LICENSE.tokenizer-source" ] && cp "$fixtures/LICENSE.tokenizer-source" "$stage/fixtures/"
for model in $(python3 -c 'import json,sys; print(" ".join(f["model"] for f in json.load(open(sys.argv[1]))["fixtures"]))' "$fixtures/goldens.json"); do
  cp -r "$fixtures/$model" "$stage/fixtures/"
done
head -n 64 "$data/train.jsonl" > "$stage/data/dialogsum-train-64.jsonl"

# 7. Manifest, then one archive.
{
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git -C "$repo" rev-parse HEAD)$(git -C "$repo" diff --quiet HEAD -- src loadtests build || echo ' (with uncommitted changes)')"
  echo "dotnet: Microsoft.NETCore.App $netcore, Microsoft.AspNetCore.App $aspnet, hostfxr $(basename "$fxr")"
  echo "torchsharp: $ts_version (libLibTorchSharp.so sha256 $(sha256sum "$ts_native" | cut -c1-16), patched copy $(sha256sum "$server_native/libLibTorchSharp.so" | cut -c1-16))"
  echo "imports: $(wc -l < "$stage/abi/undefined.txt") undefined symbols, $(wc -l < "$stage/abi/bound-at-load.txt") bound at load time"
} > "$stage/MANIFEST.txt"
say "compressing ($(du -sm "$stage" | cut -f1) MiB staged)"
tar -C "$stage" -cf - . | nice -n 10 xz -9e -T2 > "$out/bundle.tar.xz"
cp "$stage/MANIFEST.txt" "$out/MANIFEST.txt"
rm -rf "$stage"

bytes="$(stat -c %s "$out/bundle.tar.xz")"
tree_bytes="$(git -C "$repo" ls-files -z --cached --others --exclude-standard | (cd "$repo" && xargs -0 stat -c %s 2>/dev/null) | awk '{s+=$1} END {print s+0}')"
awk -v b="$bytes" -v t="$tree_bytes" -v f="$out/bundle.tar.xz" 'BEGIN {
  printf "bundle: %s (%.1f MiB); working tree that travels with it: %.1f MiB; total %.1f of 64 MiB\n", f, b / 1048576, t / 1048576, (b + t) / 1048576 }'
[ "$bytes" -le $((limit_mib * 1048576)) ] || die "the bundle is over $limit_mib MiB"
[ $((bytes + tree_bytes)) -le $((58 * 1048576)) ] || die "bundle and working tree together are over 58 MiB (64 travel at most; keep the margin)"
