#!/usr/bin/env bash
# Runs the model pipeline's Python. Debian's python3-torch lives in /usr/bin/python3, which a pyenv or
# venv python3 earlier in PATH would hide; $PYTHON overrides both.
set -euo pipefail
if [ -n "${PYTHON:-}" ]; then exec "$PYTHON" "$@"; fi
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import torch, onnx' >/dev/null 2>&1; then
    exec "$candidate" "$@"
  fi
done
echo "No Python with torch and onnx found. On Debian: apt-get install -y python3-torch python3-onnx python3-pil python3-numpy python3-pytest" >&2
exit 1
