#!/usr/bin/env bash
# The one command a GPU session runs (model/gpu/README.md): trains the shipped DeiT-tiny on the beans,
# exports public/models/deit-tiny-beans/, checks the export with onnxruntime and packs it all into $OUT.
# Budgeted to end in about 7 minutes on one H100: ~15 s CUDA smoke run, 2 × 50 s teachers,
# 230 s student, ~1 min export and checks.
#
#   bash model/gpu/train_and_export.sh [extra train.py flags…]
#
# Environment: OUT (result folder, default .work/gpu-out), DATA (default .device/beans), PYTHON (python3),
# STUDENT_BUDGET / TEACHER_BUDGET seconds (230 / 50), SMOKE=0 skips the smoke run.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-.work/gpu-out}
DATA=${DATA:-.device/beans}
PY=${PYTHON:-python3}
RUN=$(mktemp -d /tmp/leaf-lens-run.XXXXXX)
LOG="$OUT/train.log"
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
: >"$LOG"
say() { echo "== $*" | tee -a "$LOG"; }

say "start $(date -u +%FT%TZ) on $(hostname)"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.is_available())'
} 2>&1 | tee -a "$LOG"
if [ ! -d "$DATA/train" ] || [ ! -d "$DATA/val" ]; then
  echo "error: no dataset at $DATA (make it here first: mkdir -p .device && rsync -a ../shared/data/beans .device/)" | tee -a "$LOG" >&2
  exit 2
fi

if [ "${SMOKE:-1}" != 0 ]; then
  # Seconds on the GPU: every CUDA-only path (bf16 autocast, fused AdamW, CUDA generators, channels-last
  # teachers, distillation) once, so a bug fails here and not after minutes of training.
  say "CUDA smoke run"
  "$PY" model/train.py --data "$DATA" --out "$RUN/smoke" --preset micro --epochs 4 --eval-every 2 \
    --teachers 1 --teacher resnet10 --teacher-epochs 1 --time-budget 60 2>&1 | tee -a "$LOG"
fi

say "training"
"$PY" model/train.py --data "$DATA" --out "$RUN" --seed 0 \
  --time-budget "${STUDENT_BUDGET:-230}" --teacher-budget "${TEACHER_BUDGET:-50}" "$@" 2>&1 | tee -a "$LOG"
cp "$RUN/metrics.json" "$OUT/metrics.json"

if [ -f model/export.py ]; then
  say "export"
  "$PY" model/export.py --checkpoint "$RUN/checkpoint.pt" --out "$RUN/deit-tiny-beans" \
    --title "DeiT-tiny, bean leaves" 2>&1 | tee -a "$LOG"
  say "verify export with onnxruntime (not fatal)"
  "$PY" model/gpu/verify_export.py --model "$RUN/deit-tiny-beans" --checkpoint "$RUN/checkpoint.pt" \
    --data "$DATA" --json "$OUT/verify.json" 2>&1 | tee -a "$LOG" || say "verify FAILED (see above)"
else
  say "model/export.py not found: checkpoint only"
  mkdir -p "$RUN/deit-tiny-beans"
fi

# The fp32 checkpoint (22 MB) is over the 16 MiB a returned file may have: keep an fp16 copy instead.
"$PY" - "$RUN/checkpoint.pt" "$RUN/checkpoint.fp16.pt" <<'EOF'
import sys, torch
ckpt = torch.load(sys.argv[1], map_location='cpu')
ckpt['model'] = {k: v.half() if v.is_floating_point() else v for k, v in ckpt['model'].items()}
ckpt['recipe'] = {**ckpt.get('recipe', {}), 'stored_as': 'fp16 copy of the fp32 training checkpoint'}
torch.save(ckpt, sys.argv[2])
EOF

# At most 8 files of 16 MiB come back: one tar in 15 MiB parts (model folder + fp16 checkpoint).
tar -C "$RUN" -cf - deit-tiny-beans checkpoint.fp16.pt | split -b 15m -d - "$OUT/result.tar.part"
(cd "$OUT" && sha256sum result.tar.part* >result.sha256)
say "files in \$OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
"$PY" - "$OUT/metrics.json" <<'EOF' | tee -a "$LOG"
import json, sys
m = json.load(open(sys.argv[1]))
per = ', '.join(f'{k} {v:.1%}' for k, v in m['per_class'].items())
print(f"RESULT val accuracy {m['val_accuracy']:.2%} (flip TTA {m['val_accuracy_flip_tta']:.2%}; {per}); "
      f"{m['epochs']} epochs, {m['seconds']:.0f} s on {m['hardware']}")
EOF
