"""Writes the committed test fixtures: two UNTRAINED (random init) model folders and PyTorch's expected
outputs for them.

    python model/make_fixtures.py            # public/models/fixture-*/ and test/fixtures/fixture-*/

public/models/fixture-deit-micro/            224 px, patch 16 → 197 tokens, D 48, 3 blocks × 1 head
public/models/fixture-deit-micro-distilled/  64 px, patch 16 → 18 tokens (CLS + DIST), D 48, 2 blocks × 3 heads
test/fixtures/photos/bean_rust_0004.jpg      the source photo (a beans val image), for end-to-end tests
test/fixtures/<model>/
    index.json     names, files, shapes of every tensor; the cases below
    *.bin          raw little-endian float32, C order
Cases: 'top' (target all zeros: explain the top class) and 'class_<k>' (one-hot target of a class other
than the top one). Target-independent outputs (logits, features, attentions) are stored once and named
by both cases. Expected values come from PyTorch in float64 (then stored as float32).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from typing import Any, Dict, List, Optional, Sequence

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from model.common import write_bytes, write_json  # noqa: E402
from model.deit import DeiT, preset  # noqa: E402
from model.export import BEAN_LABELS, export_model  # noqa: E402
from model.deit import normalize  # noqa: E402
from model.graph import layer_features_reference, reference_outputs  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTO = os.path.join(ROOT, "..", "shared", "data", "beans", "val", "bean_rust", "bean_rust_0004.jpg")
FIXTURES = {"fixture-deit-micro": "fixture-micro", "fixture-deit-micro-distilled": "fixture-micro-distilled"}
PHOTO_COPY = "photos/bean_rust_0004.jpg"  # under test/fixtures/, shared by both fixtures
TARGET_INDEPENDENT = ("logits", "features", "attentions", "layer_features")
# The top class must win by this much, so float32/float16 rounding in onnxruntime cannot flip argmax.
MIN_TOP_MARGIN = 1e-3


def load_pixels(size: int, photo: str = PHOTO) -> torch.Tensor:
    """The photo resized (bilinear) to size×size, [1,3,S,S] in [0,1]; seeded noise when it is missing."""
    try:
        from PIL import Image

        with Image.open(photo) as im:
            rgb = np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.float32) / 255.0
        return torch.from_numpy(rgb.transpose(2, 0, 1).copy()).unsqueeze(0)
    except (ImportError, OSError):
        generator = torch.Generator().manual_seed(1234)
        return torch.rand(1, 3, size, size, generator=generator)


def seeded_model(config_name: str, seed: int, labels: Sequence[str]) -> DeiT:
    torch.manual_seed(seed)
    return DeiT(preset(config_name, num_classes=len(labels))).eval()


def _as_f32_bytes(t: torch.Tensor) -> bytes:
    return np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4")).tobytes()


def write_expected(model: DeiT, name: str, out_dir: str, backbone_sha256: str, labels: List[str],
                   photo: Optional[str], with_lrp: bool) -> Dict[str, Any]:
    """Writes test/fixtures/<name>/: inputs, expected outputs for both cases, index.json."""
    cfg = model.config
    pixels = load_pixels(cfg.image_size, photo or PHOTO).double()
    model64 = DeiT(cfg).double().eval()
    model64.load_state_dict(model.state_dict())
    head_weight, head_bias = (t.detach().clone() for t in model64.head_matrix())
    zeros = torch.zeros(1, cfg.num_classes, dtype=torch.float64)
    top_case = reference_outputs(model64, pixels, zeros, head_weight, head_bias, with_extras=with_lrp)
    logits = top_case["logits"][0]
    ordered = logits.sort(descending=True).values
    if (ordered[0] - ordered[1]).item() < MIN_TOP_MARGIN:
        raise RuntimeError(f"{name}: top logits too close ({ordered[:2].tolist()}); pick another seed")
    top = int(logits.argmax())
    other = (top + 1) % cfg.num_classes
    one_hot = torch.zeros_like(zeros)
    one_hot[0, other] = 1.0
    class_case = reference_outputs(model64, pixels, one_hot, head_weight, head_bias, with_extras=with_lrp)

    os.makedirs(out_dir, exist_ok=True)
    tensors: Dict[str, Dict[str, Any]] = {}

    def put(key: str, value: torch.Tensor) -> str:
        file_name = f"{key}.bin"
        write_bytes(os.path.join(out_dir, file_name), _as_f32_bytes(value))
        tensors[key] = {"file": file_name, "dtype": "float32", "shape": list(value.shape)}
        return key

    inputs = {"pixels": put("pixels", pixels), "head_weight": put("head_weight", head_weight),
              "head_bias": put("head_bias", head_bias)}
    cases: Dict[str, Any] = {}
    for case_name, target, values in (("top", zeros, top_case), (f"class_{other}", one_hot, class_case)):
        outputs = {}
        for output, value in values.items():
            if output in TARGET_INDEPENDENT:
                outputs[output] = put(output, value) if output not in tensors else output
            else:
                outputs[output] = put(f"{case_name}.{output}", value)
        cases[case_name] = {"target": [float(v) for v in target[0].tolist()],
                            "explained_class": top if case_name == "top" else other,
                            "inputs": {**inputs, "target": put(f"{case_name}.target", target)},
                            "outputs": outputs}
    photo_copy = os.path.join(os.path.dirname(out_dir), PHOTO_COPY)
    if os.path.isfile(photo or PHOTO):
        os.makedirs(os.path.dirname(photo_copy), exist_ok=True)
        shutil.copyfile(photo or PHOTO, photo_copy)
    index = {
        "format": "leaf-lens-fixture", "model": name, "model_dir": f"public/models/{name}",
        "trained": False, "backbone_sha256": backbone_sha256, "labels": labels,
        "image_size": cfg.image_size, "top_class": top,
        "source": {"photo": f"../{PHOTO_COPY}", "from": "beans val/bean_rust/bean_rust_0004.jpg",
                   "resize": f"PIL bilinear to {cfg.image_size}x{cfg.image_size}, RGB/255, NCHW"},
        "reference": "PyTorch float64 (model/graph.py reference_outputs), stored as float32",
        "tensors": tensors,
        "cases": cases,
    }
    write_json(os.path.join(out_dir, "index.json"), index)
    return index


def make(name: str, config_name: str, models_root: str, fixtures_root: str, seed: int = 0,
         with_lrp: bool = True, fp16: bool = True) -> Dict[str, Any]:
    labels = list(BEAN_LABELS)
    model = seeded_model(config_name, seed, labels)
    manifest = export_model(model, os.path.join(models_root, name), labels, name=name,
                            title=f"Test fixture: random DeiT ({config_name}), UNTRAINED", trained=False,
                            fp16=fp16, with_lrp=with_lrp)
    write_expected(model, name, os.path.join(fixtures_root, name), manifest["backbone_sha256"], labels,
                   None, with_lrp="attention_relevance" in manifest["outputs"])
    return manifest


def add_layer_features_expected(name: str, config_name: str, fixtures_root: str, seed: int = 0) -> float:
    """Adds the expected `layer_features` (PyTorch, float64) to a committed fixture without re-exporting it (the
    graphs got the output by surgery, model/export.py --add-layer-features). The seeded model must reproduce the
    fixture's committed `features` first (max |difference| returned), so the values are of the same weights."""
    out_dir = os.path.join(fixtures_root, name)
    with open(os.path.join(out_dir, "index.json"), encoding="utf-8") as f:
        index = json.load(f)
    model = seeded_model(config_name, seed, index["labels"])
    model64 = DeiT(model.config).double().eval()
    model64.load_state_dict(model.state_dict())
    entry = index["tensors"]["pixels"]
    pixels = np.fromfile(os.path.join(out_dir, entry["file"]), dtype="<f4").reshape(entry["shape"])
    pixels64 = torch.from_numpy(pixels.astype(np.float64))
    with torch.no_grad():
        features, _ = model64.forward_with_cache(normalize(pixels64))
    entry = index["tensors"]["features"]
    committed = np.fromfile(os.path.join(out_dir, entry["file"]), dtype="<f4").reshape(entry["shape"])
    drift = float(np.abs(features.numpy() - committed).max())
    if drift > 1e-5:
        raise RuntimeError(f"{name}: the seeded model does not reproduce the committed features (max diff {drift})")
    value = layer_features_reference(model64, pixels64)
    write_bytes(os.path.join(out_dir, "layer_features.bin"), _as_f32_bytes(value))
    index["tensors"]["layer_features"] = {"file": "layer_features.bin", "dtype": "float32", "shape": list(value.shape)}
    for case in index["cases"].values():
        case["outputs"]["layer_features"] = "layer_features"
    write_json(os.path.join(out_dir, "index.json"), index)
    return drift


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description="writes the committed model fixtures")
    p.add_argument("--models-root", default=os.path.join(ROOT, "public", "models"))
    p.add_argument("--fixtures-root", default=os.path.join(ROOT, "test", "fixtures"))
    p.add_argument("--only", choices=sorted(FIXTURES), help="just one fixture")
    p.add_argument("--no-lrp", action="store_true", help="leave attention_relevance out")
    p.add_argument("--no-fp16", action="store_true")
    p.add_argument("--layer-features-only", action="store_true",
                   help="only add the expected layer_features to the committed fixtures (no re-export)")
    args = p.parse_args(argv)
    if args.layer_features_only:
        for name, config_name in FIXTURES.items():
            drift = add_layer_features_expected(name, config_name, args.fixtures_root)
            print(f"{name}: layer_features expected values written (features reproduced within {drift:.1e})")
        return 0
    for name, config_name in FIXTURES.items():
        if args.only and name != args.only:
            continue
        manifest = make(name, config_name, args.models_root, args.fixtures_root, with_lrp=not args.no_lrp,
                        fp16=not args.no_fp16)
        total = sum(f["bytes"] for f in manifest["files"])
        print(f"{name}: {total / 1e6:.2f} MB, outputs {', '.join(manifest['outputs'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
