"""The int8 download of a model's weights (docs/model-contract.md, "int8 weights").

    python model/quantize.py public/models/deit-tiny-beans     # adds model.int8.weights + model.int8.json

Matrix weights (the B input of MatMul, the weight of Conv) are stored as int8 with one float32 scale per output
channel (symmetric: w ≈ q·scale, scale = max|w| / 127 over the channel); every other tensor (biases, position
embeddings, constants) stays float32. The app downloads this file instead of model.weights / model.fp16.weights
and rebuilds the one it runs, byte layout for byte layout, before onnxruntime sees the graphs: every graph, the
gradients and LRP stay float and unchanged. The layout (model.int8.json) says where each tensor lives in the int8
file and in each weights file it rebuilds; the regions of a rebuilt file tile it exactly.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import onnx  # noqa: E402

from model.common import sha256_bytes, write_bytes, write_json  # noqa: E402
from model.onnx_tools import EXTERNAL_ALIGN  # noqa: E402

FORMAT = "leaf-lens-int8-weights"
VERSION = 1
INT8_FILE = "model.int8.weights"
LAYOUT_FILE = "model.int8.json"
MANIFEST_KEY = "weights_int8"
# Small tensors are not worth a scale per channel (and biases feed LRP's stabilisers directly).
MIN_QUANTIZED_ELEMENTS = 4096
DTYPES = {onnx.TensorProto.FLOAT: ("float32", np.float32), onnx.TensorProto.FLOAT16: ("float16", np.float16)}


def _external_regions(model: onnx.ModelProto) -> Dict[str, Dict[str, Any]]:
    """name → {location, offset, length, dtype, shape} for every initializer stored in an external file."""
    regions = {}
    for init in model.graph.initializer:
        if init.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in init.external_data}
        if init.data_type not in DTYPES:
            raise ValueError(f"{init.name}: external tensor of ONNX type {init.data_type} (only float32/float16 supported)")
        regions[init.name] = {"location": info["location"], "offset": int(info.get("offset", 0)),
                              "length": int(info["length"]), "dtype": DTYPES[init.data_type][0], "shape": list(init.dims)}
    return regions


def _quantization_axes(model: onnx.ModelProto) -> Dict[str, int]:
    """Initializer → its output-channel axis, for the weights of MatMul (B: [..., K, N] → axis N) and Conv ([M, …] → 0)."""
    axes: Dict[str, int] = {}
    ranks = {init.name: len(init.dims) for init in model.graph.initializer}
    for node in model.graph.node:
        if len(node.input) < 2 or node.input[1] not in ranks:
            continue
        weight = node.input[1]
        if node.op_type == "MatMul" and ranks[weight] >= 2:
            axes[weight] = ranks[weight] - 1
        elif node.op_type == "Conv":
            axes[weight] = 0
    return axes


def quantize_per_channel(w: np.ndarray, axis: int) -> Tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per channel along `axis`: returns (q int8 with w's shape, scales float32 [w.shape[axis]])."""
    moved = np.moveaxis(w.astype(np.float32), axis, 0).reshape(w.shape[axis], -1)
    scales = (np.abs(moved).max(axis=1) / 127.0).astype(np.float32)
    safe = np.where(scales > 0, scales, 1.0).astype(np.float32)
    q = np.clip(np.rint(moved / safe[:, None]), -127, 127).astype(np.int8)
    shape = [w.shape[axis]] + [s for i, s in enumerate(w.shape) if i != axis]
    return np.moveaxis(q.reshape(shape), 0, axis), scales


def dequantize(q: np.ndarray, scales: np.ndarray, axis: int) -> np.ndarray:
    shape = [1] * q.ndim
    shape[axis] = -1
    return q.astype(np.float32) * scales.reshape(shape)


def _align(buffer: bytearray, to: int = 4) -> int:
    buffer.extend(b"\0" * (-len(buffer) % to))
    return len(buffer)


def build_int8(graphs: Dict[str, bytes], weights: Dict[str, bytes]) -> Tuple[bytes, Dict[str, Any]]:
    """From the graph files (name → bytes) and their weights files (name → bytes): the int8 file and its layout.
    Each weights file is described by its largest graph (the one with the most external tensors)."""
    per_file: Dict[str, Tuple[Dict[str, Dict[str, Any]], Dict[str, int]]] = {}
    for data in graphs.values():
        model = onnx.load_from_string(data)
        regions = _external_regions(model)
        if not regions:
            continue
        location = next(iter(regions.values()))["location"]
        if location not in weights:
            continue
        if location not in per_file or len(regions) > len(per_file[location][0]):
            per_file[location] = (regions, _quantization_axes(model))
    fp32 = [f for f, (regions, _) in per_file.items() if all(r["dtype"] == "float32" for r in regions.values())]
    if len(fp32) != 1:
        raise ValueError(f"expected one float32 weights file among the graphs' external data, found {fp32}")
    source_file = fp32[0]
    source_regions, axes = per_file[source_file]
    source = weights[source_file]

    blob = bytearray()
    tensors: List[Dict[str, Any]] = []
    for name, region in sorted(source_regions.items(), key=lambda kv: kv[1]["offset"]):
        w = np.frombuffer(source, dtype=np.float32, count=region["length"] // 4, offset=region["offset"]).reshape(region["shape"])
        entry: Dict[str, Any] = {"name": name, "shape": region["shape"]}
        axis = axes.get(name)
        if axis is not None and w.size >= MIN_QUANTIZED_ELEMENTS:
            q, scales = quantize_per_channel(w, axis)
            entry.update({"encoding": "int8", "axis": axis, "offset": len(blob)})
            blob.extend(q.tobytes())
            entry["scales"] = _align(blob)
            blob.extend(scales.astype("<f4").tobytes())
        else:
            entry.update({"encoding": "float32", "offset": _align(blob)})
            blob.extend(w.astype("<f4").tobytes())
        _align(blob)
        entry["targets"] = {}
        for file, (regions, _) in per_file.items():
            if name in regions:
                entry["targets"][file] = {"offset": regions[name]["offset"], "dtype": regions[name]["dtype"]}
        tensors.append(entry)
    targets = {file: {"bytes": len(weights[file]), "dtype": "float32" if file == source_file else "float16"} for file in per_file}
    layout = {"format": FORMAT, "version": VERSION, "file": INT8_FILE, "bytes": len(blob), "source": source_file,
              "targets": targets, "tensors": tensors}
    check_layout(layout)
    return bytes(blob), layout


def is_padding(end: int, start: int) -> bool:
    """A gap the weights file's own alignment leaves (onnx_tools aligns every tensor to EXTERNAL_ALIGN bytes)."""
    return start - end < EXTERNAL_ALIGN and start % EXTERNAL_ALIGN == 0


def check_layout(layout: Dict[str, Any]) -> None:
    """The rules the engine checks too: regions inside the int8 file, and each target tiled exactly."""
    size = {"float32": 4, "float16": 2}
    covered: Dict[str, List[Tuple[int, int]]] = {f: [] for f in layout["targets"]}
    for t in layout["tensors"]:
        count = int(np.prod(t["shape"])) if t["shape"] else 1
        stored = count if t["encoding"] == "int8" else 4 * count
        if t["offset"] + stored > layout["bytes"]:
            raise ValueError(f"{t['name']}: data beyond the int8 file")
        if t["encoding"] == "int8" and t["scales"] + 4 * t["shape"][t["axis"]] > layout["bytes"]:
            raise ValueError(f"{t['name']}: scales beyond the int8 file")
        for file, target in t["targets"].items():
            covered[file].append((target["offset"], target["offset"] + count * size[target["dtype"]]))
    for file, spans in covered.items():
        spans.sort()
        position = 0
        for start, end in spans:
            if start < position:
                raise ValueError(f"{file}: a tensor at {start} overlaps the one before it (ending at {position})")
            if start > position and not is_padding(position, start):
                raise ValueError(f"{file}: bytes {position}..{start} are not covered by any tensor")
            position = end
        if position != layout["targets"][file]["bytes"]:
            raise ValueError(f"{file}: tensors cover {position} of {layout['targets'][file]['bytes']} bytes")


def rebuild(blob: bytes, layout: Dict[str, Any], target: str) -> bytes:
    """The weights file `target` as the app rebuilds it (the reference for the TypeScript dequantizer)."""
    out = bytearray(layout["targets"][target]["bytes"])
    for t in layout["tensors"]:
        if target not in t["targets"]:
            continue
        count = int(np.prod(t["shape"])) if t["shape"] else 1
        if t["encoding"] == "int8":
            q = np.frombuffer(blob, dtype=np.int8, count=count, offset=t["offset"]).reshape(t["shape"])
            scales = np.frombuffer(blob, dtype="<f4", count=t["shape"][t["axis"]], offset=t["scales"])
            values = dequantize(q, scales, t["axis"])
        else:
            values = np.frombuffer(blob, dtype="<f4", count=count, offset=t["offset"])
        spot = t["targets"][target]
        data = values.astype("<f4" if spot["dtype"] == "float32" else "<f2").tobytes()
        out[spot["offset"]:spot["offset"] + len(data)] = data
    return bytes(out)


def add_to_folder(folder: str) -> Dict[str, Any]:
    """Writes the int8 file and layout into a model folder and lists them in its manifest; returns the manifest."""
    manifest_path = os.path.join(folder, "manifest.json")
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    graphs = {file: open(os.path.join(folder, file), "rb").read() for file in manifest["graphs"].values()}
    weights = {file: open(os.path.join(folder, file), "rb").read() for file in set(manifest["external_data"].values())}
    blob, layout = build_int8(graphs, weights)
    return write_into_manifest(folder, manifest, blob, layout)


def manifest_field() -> Dict[str, str]:
    return {"file": INT8_FILE, "layout": LAYOUT_FILE}


def layout_bytes(layout: Dict[str, Any]) -> bytes:
    return (json.dumps(layout, separators=(",", ":")) + "\n").encode()


def write_into_manifest(folder: str, manifest: Dict[str, Any], blob: bytes, layout: Dict[str, Any]) -> Dict[str, Any]:
    layout_data = layout_bytes(layout)
    write_bytes(os.path.join(folder, INT8_FILE), blob)
    write_bytes(os.path.join(folder, LAYOUT_FILE), layout_data)
    files = [f for f in manifest["files"] if f["path"] not in (INT8_FILE, LAYOUT_FILE)]
    files += [{"path": INT8_FILE, "sha256": sha256_bytes(blob), "bytes": len(blob)},
              {"path": LAYOUT_FILE, "sha256": sha256_bytes(layout_data), "bytes": len(layout_data)}]
    manifest = {**manifest, "files": files, MANIFEST_KEY: manifest_field()}
    write_json(os.path.join(folder, "manifest.json"), manifest)
    return manifest


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    manifest = add_to_folder(argv[0])
    entry = next(f for f in manifest["files"] if f["path"] == INT8_FILE)
    replaced = sum(f["bytes"] for f in manifest["files"] if f["path"] == manifest["external_data"][manifest["graphs"]["full"]])
    print(f"wrote {os.path.join(argv[0], INT8_FILE)}: {entry['bytes'] / 1e6:.2f} MB (fp32 weights {replaced / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
