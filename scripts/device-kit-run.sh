#!/usr/bin/env bash
# The device kit's runner, copied into .work/device/ by `npm run device:kit` (scripts/device-kit.ts).
# On a GPU machine with no Node and no node_modules: unpacks the kit's Node and dawn.node, brings up the Vulkan
# loader from the carried .gl/*.deb when the machine has none, runs the WGSL kernel bench and writes
#   $OUT/node-dawn-<gpu>.json  (a NodeBenchReport: `npm run plot -- --node FILE` reads it)
#   $OUT/node-dawn-<gpu>.log
# Usage, from anywhere: bash .work/device/run.sh [bench args, e.g. --runs 3 --warmup 1]
# Environment: OUT (default: .work/device-out, beside the kit), GPU_NAME (default: from nvidia-smi, e.g. h100), REPO (default: ../..).
set -uo pipefail

KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${REPO:-$(cd "$KIT/../.." && pwd)}
OUT_DIR=${OUT:-$KIT/../device-out}
mkdir -p "$OUT_DIR" && OUT_DIR=$(cd "$OUT_DIR" && pwd)
say() { echo "[device-kit] $*"; }

# xz where the machine has it, else Python's lzma (the GPU machines have python3; xz is not promised).
unpack_xz() {
  local packed=$1 target=$2
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$packed" >"$target.part" || return 1
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$packed" "$target.part" || return 1
  fi
  mv "$target.part" "$target"
}

# Unpacked outside the kit: 100 MB of binaries left in .work/device would push the next device call over its limit.
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/device-kit.XXXXXX")
trap 'rm -rf "$RUN_DIR"' EXIT
cp -r "$KIT/bench-node.mjs" "$KIT/node_modules" "$RUN_DIR/"
NODE=$RUN_DIR/node
DAWN=$RUN_DIR/node_modules/webgpu/dist/linux-x64/dawn.node
unpack_xz "$KIT/node.xz" "$NODE" && chmod +x "$NODE" || { say "could not unpack $KIT/node.xz"; exit 1; }
unpack_xz "$DAWN.xz" "$DAWN" && rm "$DAWN.xz" || { say "could not unpack $DAWN.xz"; exit 1; }
say "node $("$NODE" --version) ($(du -h "$NODE" | cut -f1)), dawn.node $(du -h "$DAWN" | cut -f1)"

# Vulkan loader: the device README's recipe (dpkg -x of the carried .debs into /), only where none is installed,
# so that running this on a development machine leaves its / alone.
# (grep without -q reads all of ldconfig's output: an early exit could fail the pipe and unpack over a working loader)
if ! ldconfig -p | grep 'libvulkan\.so\.1 ' >/dev/null; then
  if ls "$REPO"/.gl/*.deb >/dev/null 2>&1; then
    say "no Vulkan loader installed: unpacking $(ls "$REPO"/.gl/*.deb | xargs -n1 basename | tr '\n' ' ')into /"
    for deb in "$REPO"/.gl/*.deb; do dpkg -x "$deb" /; done
    ldconfig
  else
    say "no Vulkan loader installed and no $REPO/.gl/*.deb carried: Dawn will find no adapter"
  fi
fi
# The NVIDIA driver's ICD sits outside the loader's search path on the GPU machines.
NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$NVIDIA_ICD" ] \
  && ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
  export VK_DRIVER_FILES=$NVIDIA_ICD
fi
say "Vulkan loader: $(ldconfig -p | grep -m1 'libvulkan\.so\.1 ' | sed 's/.*=> //')${VK_DRIVER_FILES:+, VK_DRIVER_FILES=$VK_DRIVER_FILES}"
command -v nvidia-smi >/dev/null 2>&1 && say "$(nvidia-smi -L 2>&1 | head -n1)"

# The file name's GPU: its model number where it has one (NVIDIA H100 80GB HBM3 → h100), else its whole name.
gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1 | tr 'A-Z' 'a-z')
gpu=$(printf '%s' "$gpu_name" | grep -oE '\b[a-z][0-9]{2,4}\b' | head -n1)
[ -n "$gpu" ] || gpu=$(printf '%s' "$gpu_name" | sed -E 's/^nvidia //; s/[^a-z0-9]+/-/g; s/^-+|-+$//g')
gpu=${GPU_NAME:-${gpu:-nogpu}}
JSON=$OUT_DIR/node-dawn-$gpu.json
LOG=$OUT_DIR/node-dawn-$gpu.log

cd "$RUN_DIR"
"$NODE" bench-node.mjs --runs 50 --warmup 10 --json "$JSON" "$@" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
if [ ! -f "$JSON" ]; then
  # One more short try with the loader talking, so that a single device call also says why.
  say "no report written (exit $status): rerunning once with VK_LOADER_DEBUG=error,warn,driver into $OUT_DIR/vulkan-loader.log"
  VK_LOADER_DEBUG=error,warn,driver "$NODE" bench-node.mjs --runs 1 --warmup 0 >"$OUT_DIR/vulkan-loader.log" 2>&1
  tail -n 40 "$OUT_DIR/vulkan-loader.log"
fi
say "exit $status; files in $OUT_DIR: $(ls "$OUT_DIR" | tr '\n' ' ')"
exit "$status"
