"""Small helpers shared by the pipeline: atomic file writes, sha256, JSON."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from typing import Any, Iterator


@contextlib.contextmanager
def atomic_write(path: str) -> Iterator[str]:
    """Yields a temp path next to ``path``; renames it over ``path`` only if the block succeeds,
    so a crash never leaves a half-written file where a good one was."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    except OSError as err:
        raise PermissionError(f"cannot write to {folder}: {err.strerror}") from None
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes(path: str, data: bytes) -> None:
    with atomic_write(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def write_json(path: str, value: Any, indent: int | None = 2) -> None:
    text = json.dumps(value, indent=indent, allow_nan=False) + "\n"
    write_bytes(path, text.encode("utf-8"))


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
