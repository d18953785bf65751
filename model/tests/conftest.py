"""Shared pytest setup for the model pipeline: the repo root on sys.path (so `import model` works however
pytest is started) and one fixed torch seed and thread count per test."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import torch  # noqa: E402  (after the path fix on purpose)

# Views of each 256 px sample photo as PIL crop boxes: four for train; two, mirrored, for val.
TRAIN_VIEWS = ((0, 0, 192, 192), (64, 64, 256, 256), (0, 64, 192, 256), (32, 32, 224, 224))
VAL_VIEWS = ((0, 0, 256, 256), (64, 0, 256, 192))


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def repo_root() -> str:
    return ROOT


@pytest.fixture()
def beans_sample(tmp_path: Path) -> Path:
    """A tiny image-folder data set (4 train and 2 val photos per class, 96×96 JPEGs) cut from the app's three
    sample photos (public/samples, iBean val photos, one per class), so that the loader and training smoke tests
    run in seconds without ../shared/data/beans and the repository holds no second copy of bean photos.
    Not for measuring accuracy: the views of one class share one leaf."""
    from PIL import Image, ImageOps

    from model.export import BEAN_LABELS

    root = tmp_path / "beans"
    for label in BEAN_LABELS:
        with Image.open(os.path.join(ROOT, "public", "samples", f"{label}.jpg")) as photo:
            photo = photo.convert("RGB")
        for split, views in (("train", TRAIN_VIEWS), ("val", VAL_VIEWS)):
            folder = root / split / label
            folder.mkdir(parents=True)
            for i, box in enumerate(views):
                view = photo.crop(box).resize((96, 96), Image.BILINEAR)
                view = ImageOps.mirror(view) if split == "val" else view
                view.save(folder / f"{label}_{split}_{i}.jpg", quality=90)
    return root


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
