"""Shared pytest setup for the model pipeline: the repo root on sys.path (so `import model` works however
pytest is started) and one fixed torch seed and thread count per test."""
from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import torch  # noqa: E402  (after the path fix on purpose)


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def repo_root() -> str:
    return ROOT
