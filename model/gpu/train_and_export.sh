#!/usr/bin/env bash
# The one command a GPU session runs (model/gpu/README.md): trains the shipped DeiT-tiny on the beans,
# exports public/models/deit-tiny-beans/, checks the export with onnxruntime and packs it all into $OUT.
# Budgeted to end in about 7 minutes on one H100: ~20 s CUDA smoke run, 2 × 50 s teachers,
# 230 s student, ~1–2 min export and checks.
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
  echo "error: no dataset at $DATA (make it here first: mkdir -p .device/beans && cp -r ../shared/data/beans/. .device/beans/)" | tee -a "$LOG" >&2
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

# Export and checks are not fatal: the fp32 checkpoint always comes back, and export.py also runs on a CPU.
mkdir -p "$RUN/deit-tiny-beans"
if [ -f model/export.py ]; then
  say "export"
  if "$PY" model/export.py --checkpoint "$RUN/checkpoint.pt" --out "$RUN/deit-tiny-beans" \
      --title "DeiT-tiny, bean leaves" 2>&1 | tee -a "$LOG"; then
    say "verify export with onnxruntime"
    "$PY" model/gpu/verify_export.py --model "$RUN/deit-tiny-beans" --checkpoint "$RUN/checkpoint.pt" \
      --data "$DATA" --json "$OUT/verify.json" 2>&1 | tee -a "$LOG" || say "verify FAILED (see above)"
  else
    say "export FAILED (see above): export the returned checkpoint.pt on the CPU machine"
  fi
else
  say "model/export.py not found: checkpoint only"
fi

# At most 8 files of 16 MiB (64 MiB together) come back: one tar of the model folder and the fp32
# checkpoint (~56 MB together), split into 15 MiB parts; with train.log, metrics.json, verify.json: 7 files.
tar -C "$RUN" -cf - deit-tiny-beans checkpoint.pt | split -b 15m -d - "$OUT/result.tar.part"
(cd "$OUT" && sha256sum result.tar.part*) | tee -a "$LOG"
say "files in \$OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
"$PY" - "$OUT/metrics.json" <<'EOF' | tee -a "$LOG"
import json, sys
m = json.load(open(sys.argv[1]))
per = ', '.join(f'{k} {v:.1%}' for k, v in m['per_class'].items())
print(f"RESULT val accuracy {m['val_accuracy']:.2%} (flip TTA {m['val_accuracy_flip_tta']:.2%}; {per}); "
      f"{m['epochs']} epochs, {m['seconds']:.0f} s on {m['hardware']}")
EOF
