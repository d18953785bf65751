#!/usr/bin/env bash
# The device kit's runner, copied into .work/device/ by `npm run device:kit` (tools/device/build-kit.ts).
# On a GPU machine with no Node and no node_modules: unpacks the kit's Node and dawn.node, brings up the Vulkan
# loader from the carried .gl/*.deb when the machine has none, runs the WGSL kernel bench and, in a kit built with
# --ort, then times the model with onnxruntime-node's native WebGPU EP in its own process under `timeout`. Writes
#   $OUT/node-dawn-<gpu>.json        (a NodeBenchReport: `npm run plot -- --node FILE` reads it; onnxruntime's
#                                     results join its `ort` list)
#   $OUT/ort-node-webgpu-<gpu>.json  (--ort: the onnxruntime results alone, an OrtInNodeReport[]; written even when
#                                     the kernel bench failed)
#   $OUT/node-dawn-<gpu>.log         (both steps' output; the Vulkan loader's debug output when no report came)
# Usage, from anywhere: bash .work/device/run.sh [kernel bench args, e.g. --runs 3 --warmup 1]
# Environment: OUT (default: .work/device-out, beside the kit), GPU_NAME (default: from nvidia-smi, e.g. h100), REPO (default: ../..).
# onnxruntime (kits built with --ort): ORT_MODEL (model folder, absolute or relative to REPO; default
# public/models/deit-tiny-beans), ORT_PRECISION (fp32, fp16 or both; default fp32), ORT_RUNS (20), ORT_WARMUP (5),
# ORT_TIMEOUT (seconds for the whole onnxruntime step; default 90), ORT=0 skips it.
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
cp -r "$KIT"/*.mjs "$KIT/node_modules" "$RUN_DIR/"
NODE=$RUN_DIR/node
DAWN=$RUN_DIR/node_modules/webgpu/dist/linux-x64/dawn.node
unpack_xz "$KIT/node.xz" "$NODE" && chmod +x "$NODE" || { say "could not unpack $KIT/node.xz"; exit 1; }
unpack_xz "$DAWN.xz" "$DAWN" && rm "$DAWN.xz" || { say "could not unpack $DAWN.xz"; exit 1; }
say "node $("$NODE" --version) ($(du -h "$NODE" | cut -f1)), dawn.node $(du -h "$DAWN" | cut -f1)"
# onnxruntime-node (kits built with --ort): the binding finds libonnxruntime.so.1 beside it (RUNPATH $ORIGIN).
ORT_LIB=$RUN_DIR/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
RUN_ORT=0
if [ -f "$RUN_DIR/bench-ort.mjs" ] && [ "${ORT:-1}" != 0 ]; then
  if unpack_xz "$ORT_LIB.xz" "$ORT_LIB" && rm "$ORT_LIB.xz"; then
    RUN_ORT=1
    say "libonnxruntime.so.1 $(du -h "$ORT_LIB" | cut -f1)"
  else
    say "could not unpack $ORT_LIB.xz: no onnxruntime step"
  fi
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

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

ORT_JSON=$OUT_DIR/ort-node-webgpu-$gpu.json

cd "$RUN_DIR"
"$NODE" bench-node.mjs --runs 50 --warmup 10 --json "$JSON" "$@" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
if [ ! -f "$JSON" ]; then
  # One more short try with the loader talking, so that a single device call also says why (into the same log: at
  # most 8 files come back from a call).
  say "no report written (exit $status): rerunning once with VK_LOADER_DEBUG=error,warn,driver into $LOG" | tee -a "$LOG"
  VK_LOADER_DEBUG=error,warn,driver "$NODE" bench-node.mjs --runs 1 --warmup 0 >"$RUN_DIR/vulkan-loader.log" 2>&1
  { echo '== vulkan loader debug =='; cat "$RUN_DIR/vulkan-loader.log"; } >>"$LOG"
  tail -n 40 "$RUN_DIR/vulkan-loader.log"
fi

ort_status=0
if [ "$RUN_ORT" = 1 ]; then
  model=${ORT_MODEL:-public/models/deit-tiny-beans}
  case $model in /*) ;; *) model=$REPO/$model ;; esac
  ort_timeout=${ORT_TIMEOUT:-90}
  say "onnxruntime-node WebGPU EP: $model, ${ORT_PRECISION:-fp32}, ${ORT_RUNS:-20} runs after ${ORT_WARMUP:-5} warm-up, at most ${ort_timeout} s" | tee -a "$LOG"
  ort_cmd=("$NODE" bench-ort.mjs --model "$model" --precision "${ORT_PRECISION:-fp32}" --runs "${ORT_RUNS:-20}" \
    --warmup "${ORT_WARMUP:-5}" --json "$ORT_JSON" --into "$JSON")
  # A hung driver or shader compile must not eat the call: the kernel report is already written.
  if command -v timeout >/dev/null 2>&1; then ort_cmd=(timeout -k 10 "$ort_timeout" "${ort_cmd[@]}"); fi
  "${ort_cmd[@]}" 2>&1 | tee -a "$LOG"
  ort_status=${PIPESTATUS[0]}
  if [ "$ort_status" = 124 ] || [ "$ort_status" = 137 ]; then
    say "onnxruntime step stopped after ${ort_timeout} s (exit $ort_status); precisions that finished, if any, are in $ORT_JSON" | tee -a "$LOG"
  fi
fi
[ "$status" = 0 ] && status=$ort_status
say "exit $status; files in $OUT_DIR: $(ls "$OUT_DIR" | tr '\n' ' ')"
exit "$status"
