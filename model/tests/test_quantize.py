"""The int8 download (docs/model-contract.md, "int8 weights"): per-channel symmetric quantisation, the layout
rules of the contract block, the export writing it, and the shipped model's file rebuilding its float weights
within half a quantisation step."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from model import quantize
from model.common import sha256_file
from model.tests.test_contract import CONTRACT, SHIPPED

RULES = CONTRACT["int8_weights"]


def test_per_channel_round_trip_is_within_half_a_step() -> None:
    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 48)).astype(np.float32) * np.linspace(0.01, 3, 48, dtype=np.float32)
    q, scales = quantize.quantize_per_channel(w, axis=1)
    assert q.dtype == np.int8 and scales.shape == (48,)
    assert np.abs(q).max() == 127  # every channel uses the full range
    error = np.abs(quantize.dequantize(q, scales, 1) - w)
    assert (error <= scales[None, :] / 2 * 1.0001).all()
    # Channels along another axis (Conv weights: output channels first).
    q0, s0 = quantize.quantize_per_channel(w, axis=0)
    assert s0.shape == (64,) and np.allclose(s0, np.abs(w).max(axis=1) / 127)
    assert (np.abs(quantize.dequantize(q0, s0, 0) - w) <= s0[:, None] / 2 * 1.0001).all()


def test_an_all_zero_channel_stays_zero() -> None:
    w = np.zeros((8, 4), np.float32)
    w[:, 1] = 0.5
    q, scales = quantize.quantize_per_channel(w, axis=1)
    assert scales[0] == 0 and (quantize.dequantize(q, scales, 1) == w).all()


def check_folder(folder: str) -> dict:
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    entry = manifest[RULES["manifest_key"]]
    listed = {f["path"]: f for f in manifest["files"]}
    for key in ("file", "layout"):
        path = os.path.join(folder, entry[key])
        assert listed[entry[key]]["sha256"] == sha256_file(path)
    with open(os.path.join(folder, entry["layout"]), encoding="utf-8") as f:
        layout = json.load(f)
    assert set(RULES["layout_required"]) <= set(layout)
    assert layout["format"] == RULES["format"] and layout["version"] == RULES["version"] and layout["file"] == entry["file"]
    for t in layout["tensors"]:
        assert set(RULES["tensor_required"]) <= set(t) and t["encoding"] in RULES["encodings"]
        assert all(spot["dtype"] in RULES["target_dtypes"] for spot in t["targets"].values())
    quantize.check_layout(layout)
    assert set(layout["targets"]) <= set(manifest["external_data"].values())
    blob = open(os.path.join(folder, entry["file"]), "rb").read()
    assert len(blob) == layout["bytes"] == listed[entry["file"]]["bytes"]
    for target, spec in layout["targets"].items():
        original = open(os.path.join(folder, target), "rb").read()
        rebuilt = quantize.rebuild(blob, layout, target)
        assert len(rebuilt) == len(original) == spec["bytes"]
        dtype = "<f4" if spec["dtype"] == "float32" else "<f2"
        a = np.frombuffer(rebuilt, dtype).astype(np.float32)
        b = np.frombuffer(original, dtype).astype(np.float32)
        for t in layout["tensors"]:
            spot = t["targets"][target]
            start = spot["offset"] // (4 if dtype == "<f4" else 2)
            count = int(np.prod(t["shape"]))
            if t["encoding"] == "int8":
                step = np.frombuffer(blob, "<f4", t["shape"][t["axis"]], t["scales"]).max()
                bound = step / 2 * 1.0001 + (np.abs(b[start:start + count]).max() * 2 ** -10 if dtype == "<f2" else 0)
            else:
                bound = 0 if dtype == "<f4" else np.abs(b[start:start + count]).max() * 2 ** -10
            assert np.abs(a[start:start + count] - b[start:start + count]).max() <= bound, (target, t["name"])
    return layout


def test_export_writes_the_int8_download(exported_micro: str) -> None:
    check_folder(exported_micro)


def test_shipped_model_int8_download() -> None:
    layout = check_folder(SHIPPED)
    quantized = sum(int(np.prod(t["shape"])) for t in layout["tensors"] if t["encoding"] == "int8")
    total = sum(int(np.prod(t["shape"])) for t in layout["tensors"])
    assert quantized / total > 0.9  # the matrices are nearly all of the weights
    assert os.path.getsize(os.path.join(SHIPPED, "model.int8.weights")) < 0.3 * os.path.getsize(os.path.join(SHIPPED, "model.weights"))


def test_a_gap_in_a_target_is_refused() -> None:
    layout = {"bytes": 64, "targets": {"w": {"bytes": 32, "dtype": "float32"}},
              "tensors": [{"name": "a", "shape": [4], "encoding": "float32", "offset": 0, "targets": {"w": {"offset": 0, "dtype": "float32"}}},
                          {"name": "b", "shape": [2], "encoding": "float32", "offset": 16, "targets": {"w": {"offset": 24, "dtype": "float32"}}}]}
    with pytest.raises(ValueError, match="not covered"):
        quantize.check_layout(layout)


def _two_tensor_layout(second_offset: int) -> dict:
    """Two float32 tensors of 4 values (16 bytes) in a weights file; the second at `second_offset`."""
    return {"bytes": 64, "targets": {"w": {"bytes": second_offset + 16, "dtype": "float32"}},
            "tensors": [{"name": "a", "shape": [4], "encoding": "float32", "offset": 0, "targets": {"w": {"offset": 0, "dtype": "float32"}}},
                        {"name": "b", "shape": [4], "encoding": "float32", "offset": 16, "targets": {"w": {"offset": second_offset, "dtype": "float32"}}}]}


def test_the_weights_files_alignment_padding_is_accepted_and_rebuilt_as_zeros() -> None:
    assert RULES["target_alignment"] == quantize.EXTERNAL_ALIGN  # the contract names the exporter's alignment
    align = RULES["target_alignment"]
    layout = _two_tensor_layout(align)  # bytes 16..64 are padding before an aligned tensor
    quantize.check_layout(layout)
    blob = np.arange(1, 9, dtype="<f4").tobytes() + bytes(32)
    rebuilt = quantize.rebuild(blob, layout, "w")
    assert rebuilt[16:align] == bytes(align - 16)
    assert np.array_equal(np.frombuffer(rebuilt[align:], dtype="<f4"), np.arange(5, 9, dtype=np.float32))


@pytest.mark.parametrize("offset", [32, 128])  # a gap before an unaligned start; a gap as long as the alignment
def test_a_gap_that_is_not_padding_is_refused(offset: int) -> None:
    with pytest.raises(ValueError, match="not covered"):
        quantize.check_layout(_two_tensor_layout(offset))


def test_an_overlap_is_refused() -> None:
    with pytest.raises(ValueError, match="overlaps"):
        quantize.check_layout(_two_tensor_layout(8))
