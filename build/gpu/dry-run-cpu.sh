#!/usr/bin/env bash
# The device run, rehearsed on this CPU machine: proves the bundle starts from a clean folder with nothing but what
# travels to the device. A scratch copy of the working tree as the device tool sends it (tracked and untracked,
# not-ignored files) plus the carried artifacts/gpu-bundle; an empty environment (env -i), a PATH holding only the
# plain tools run.sh uses (no dotnet), HOME in the scratch folder (so no NuGet cache either), no ICU; TorchSharp-cpu's
# own libtorch from the NuGet cache stands in for the PyTorch wheel's torch/lib. Then build/gpu/run.sh with
# DEVICE=cpu and the small shapes, and its summary printed.
#
#   build/gpu/make-bundle.sh && build/gpu/dry-run-cpu.sh [OUT_DIR]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ -f "$repo/artifacts/gpu-bundle/bundle.tar.xz" ] || { echo "no bundle: run build/gpu/make-bundle.sh first" >&2; exit 1; }
scratch="$(mktemp -d /tmp/ih-dryrun.XXXXXX)"
out="${1:-$scratch/out}"
mkdir -p "$scratch/repo/artifacts" "$scratch/bin" "$scratch/home" "$scratch/tmp" "$out"

(cd "$repo" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -C "$scratch/repo" -xf -
cp -r "$repo/artifacts/gpu-bundle" "$scratch/repo/artifacts/"

python="$(python3 -c 'import sys; print(sys.executable)')"
ln -s "$python" "$scratch/bin/python3"
for t in bash sh tar xz gzip timeout sleep date mkdir rm cat grep sed awk head tail sort wc cp mv ln find mktemp dirname \
         basename readlink stat env ldd uname tee tr cut xargs du touch chmod ls printf pkill; do
  ln -s "$(command -v "$t")" "$scratch/bin/$t"
done
ln -s "$(command -v ldconfig || echo /sbin/ldconfig)" "$scratch/bin/ldconfig"

ts_version="$(sed -n 's/.*PackageVersion Include="TorchSharp-cpu" Version="\([^"]*\)".*/\1/p' "$repo/Directory.Packages.props")"
libtorch_version="$(ls "$HOME/.nuget/packages/libtorch-cpu-linux-x64" | sort -V | tail -n1)"
torch_lib="$HOME/.nuget/packages/libtorch-cpu-linux-x64/$libtorch_version/runtimes/linux-x64/native"
echo "dry run in $scratch: TorchSharp $ts_version against libtorch-cpu $libtorch_version ($torch_lib)"

set +e
env -i PATH="$scratch/bin" HOME="$scratch/home" TMPDIR="$scratch/tmp" LANG=C.UTF-8 OUT="$out" \
  DEVICE=cpu TORCH_LIB="$torch_lib" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 \
  BENCH_SHAPES=tiny LOAD_SHAPE=tiny RUN_BUDGET_S="${RUN_BUDGET_S:-3600}" STAGE_TIME_SCALE="${STAGE_TIME_SCALE:-6}" STAGES="${STAGES:-all}" \
  LOADTEST_ARGS="--adapters 8 --concurrency 2 --warmup 1 --prompt-len 16 --output-len 8" \
  bash "$scratch/repo/build/gpu/run.sh"
rc=$?
echo "dry run finished with $rc; results in $out (run.log, summary.md, summary.json, results.tar.gz)"
exit "$rc"
