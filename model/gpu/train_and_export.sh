#!/usr/bin/env bash
# The one command a GPU session runs (model/gpu/README.md): trains the shipped DeiT-tiny on the beans,
# exports public/models/deit-tiny-beans/, checks the export with onnxruntime and packs it all into $OUT.
# Budgeted to about 8 minutes on one H100: ~30 s CUDA smoke run, 2 × 45 s teachers, 220 s student,
# export and checks in what is left before LIMIT (570 s after the start, under the tool's 600 s).
#
#   bash model/gpu/train_and_export.sh [extra train.py flags…]
#
# Environment: OUT (result folder, default .work/gpu-out), DATA (default .device/beans), PYTHON (python3),
# STUDENT_BUDGET / TEACHER_BUDGET seconds (220 / 45), LIMIT seconds (570), SMOKE=0 skips the smoke run.
set -euo pipefail
cd "$(dirname "$0")/../.."
START=$(date +%s)
DEADLINE=$((START + ${LIMIT:-570}))
OUT=${OUT:-.work/gpu-out}
DATA=${DATA:-.device/beans}
PY=${PYTHON:-python3}
RUN=$(mktemp -d /tmp/leaf-lens-run.XXXXXX)
LOG="$OUT/train.log"
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
: >"$LOG"
say() { echo "== [$(($(date +%s) - START)) s] $*" | tee -a "$LOG"; }
left() { echo $((DEADLINE - $(date +%s))); }
# At most 8 files of 16 MiB (64 MiB together) come back from $OUT: big results go as 15 MiB tar parts.
pack() { local name=$1; shift; tar -C "$RUN" -cf - "$@" | split -b 15m -d - "$OUT/$name.tar.part"
         (cd "$OUT" && sha256sum "$name".tar.part*) | tee -a "$LOG"; }

say "start $(date -u +%FT%TZ) on $(hostname)"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.is_available())'
} 2>&1 | tee -a "$LOG"
if [ ! -d "$DATA/train" ] || [ ! -d "$DATA/val" ]; then
  echo "error: no dataset at $DATA (make it here first: mkdir -p .device/beans && cp -r ../shared/data/beans/. .device/beans/)" | tee -a "$LOG" >&2
  exit 2
fi

if [ "${SMOKE:-1}" != 0 ]; then
  # Seconds on the GPU: every CUDA-only path (bf16 autocast, fused AdamW, CUDA generators, fused attention,
  # channels-last teachers, distillation) once, so a bug fails here and not after minutes of training.
  say "CUDA smoke run"
  "$PY" model/train.py --data "$DATA" --out "$RUN/smoke" --preset micro --epochs 4 --eval-every 2 \
    --teachers 1 --teacher resnet10 --teacher-epochs 1 2>&1 | tee -a "$LOG"
fi

say "training"
"$PY" model/train.py --data "$DATA" --out "$RUN" --seed 0 \
  --time-budget "${STUDENT_BUDGET:-220}" --teacher-budget "${TEACHER_BUDGET:-45}" "$@" 2>&1 | tee -a "$LOG"
cp "$RUN/metrics.json" "$OUT/metrics.json"
# The fp32 checkpoint (22 MB) comes back whatever happens next; export.py also runs on a CPU (~2 min).
pack checkpoint checkpoint.pt

# Export and checks are not fatal and stop at the deadline, so the command ends inside the tool's limit.
if [ ! -f model/export.py ]; then
  say "model/export.py not found: checkpoint only"
elif [ "$(left)" -lt 60 ]; then
  say "no time left to export: export the returned checkpoint.pt on the CPU machine"
else
  say "export (at most $(($(left) - 30)) s)"
  if timeout "$(($(left) - 30))" "$PY" model/export.py --checkpoint "$RUN/checkpoint.pt" \
      --out "$RUN/deit-tiny-beans" --title "DeiT-tiny, bean leaves" 2>&1 | tee -a "$LOG"; then
    pack model deit-tiny-beans
    if [ "$(left)" -gt 20 ]; then
      say "verify export with onnxruntime (at most $(($(left) - 10)) s)"
      timeout "$(($(left) - 10))" "$PY" model/gpu/verify_export.py --model "$RUN/deit-tiny-beans" \
        --checkpoint "$RUN/checkpoint.pt" --data "$DATA" 2>&1 | tee -a "$LOG" || say "verify FAILED or stopped"
    fi
  else
    say "export FAILED or stopped (see above): export the returned checkpoint.pt on the CPU machine"
  fi
fi

say "files in \$OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
"$PY" - "$OUT/metrics.json" <<'EOF' | tee -a "$LOG"
import json, sys
m = json.load(open(sys.argv[1]))
per = ', '.join(f'{k} {v:.1%}' for k, v in m['per_class'].items())
print(f"RESULT val accuracy {m['val_accuracy']:.2%} (flip TTA {m['val_accuracy_flip_tta']:.2%}; {per}); "
      f"{m['epochs']} epochs, {m['seconds']:.0f} s on {m['hardware']}")
EOF
