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


@pytest.fixture(scope="session")
def exported_micro(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One random-init micro model exported (fp32 + fp16, LRP when available) for the export/contract tests."""
    from model.deit import DeiT, preset
    from model.export import BEAN_LABELS, export_model

    out = str(tmp_path_factory.mktemp("export") / "fixture-deit-micro-test")
    torch.manual_seed(0)
    model = DeiT(preset("micro-distilled")).eval()
    export_model(model, out, BEAN_LABELS, trained=False)
    return out
