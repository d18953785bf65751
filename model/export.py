"""Exports a DeiT checkpoint as the app's model folder (docs/model-contract.md).

    python model/export.py --checkpoint runs/beans/checkpoint.pt --out public/models/deit-tiny-beans
    python model/export.py --random-init --config micro --out public/models/fixture-deit-micro
    python model/export.py --head-only --checkpoint ck.pt --backbone-manifest DIR/manifest.json --out head.json
    python model/export.py --fit-domain .work/domain/features.json --out public/models/deit-tiny-beans

--fit-domain adds the optional head fields of the contract ("Knowing when it does not know": feature statistics
of the training photos, temperature, open-set threshold, sure threshold; model/domain.py) to an existing model
folder, from the features and logits that `npm run eval:domain -- --dump FILE --splits train,val` computed with
the app's own preprocessing; it rewrites head.json and its entry in manifest.json, nothing else.

Writes model.lrp.onnx (+ attention_grads + attention_relevance, when model/lrp.py provides it and
--no-lrp is not given), model.onnx (full: + attention_grads) and model.forward.onnx, the last two pruned from
the largest graph so all three share one model.weights; the fp16 variants (model.lrp.fp16.onnx,
model.fp16.onnx, model.forward.fp16.onnx, model.fp16.weights); the int8 download of the weights that the app
fetches (model.int8.weights + model.int8.json, model/quantize.py); head.json, metrics.json and, last,
manifest.json. Every file goes to a temp name first and is renamed into place.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import inspect
import io
import json
import os
import sys
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

if __package__ in (None, ""):  # run as a script: make `import model` work from anywhere
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import onnx  # noqa: E402
import torch  # noqa: E402

from model import onnx_tools, quantize  # noqa: E402
from model.common import atomic_write, sha256_bytes, sha256_file, write_bytes, write_json  # noqa: E402
from model.deit import IMAGENET_MEAN, IMAGENET_STD, DeiT, load_checkpoint, preset  # noqa: E402
from model.domain import DomainError, fit_domain, round_fields, validate_domain_fields  # noqa: E402
from model.graph import FORWARD_OUTPUTS, FULL_OUTPUTS, INPUTS, ExportGraph  # noqa: E402

CONTRACT_VERSION = 1
OPSET = 17
HEAD_FORMAT = "leaf-lens-head"
BEAN_LABELS = ["angular_leaf_spot", "bean_rust", "healthy"]
FILES = {
    "full": "model.onnx", "forward": "model.forward.onnx", "lrp": "model.lrp.onnx", "weights": "model.weights",
    "full_fp16": "model.fp16.onnx", "forward_fp16": "model.forward.fp16.onnx", "lrp_fp16": "model.lrp.fp16.onnx",
    "weights_fp16": "model.fp16.weights",
}
# Graph role → the outputs its graph is pruned to (the lrp graph is the traced one, unpruned).
PRUNED_OUTPUTS = {"full": FULL_OUTPUTS, "forward": FORWARD_OUTPUTS}


class ExportError(Exception):
    """A one-line, user-facing export failure."""


def now_utc() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# ---- tracing ----------------------------------------------------------------------------------

def trace_full_graph(model: DeiT, with_lrp: bool = True) -> Tuple[onnx.ModelProto, List[str]]:
    """Traces ExportGraph to ONNX (inline weights) and cleans it: no Identity, shared weight copies."""
    cfg = model.config
    graph = ExportGraph(model.float().eval(), with_grads=True, with_extras=with_lrp)
    outputs = graph.output_names()
    head_weight, head_bias = (t.detach().clone() for t in model.head_matrix())
    args = (torch.rand(1, 3, cfg.image_size, cfg.image_size), head_weight, head_bias,
            torch.zeros(1, cfg.num_classes))
    dynamic = {"head_weight": {0: "classes"}, "head_bias": {0: "classes"}, "target": {1: "classes"},
               "logits": {1: "classes"}}
    kwargs: Dict[str, Any] = dict(opset_version=OPSET, input_names=INPUTS, output_names=outputs,
                                  dynamic_axes=dynamic, do_constant_folding=True)
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # torch ≥ 2.5: keep the TorchScript exporter (same graph on 1.13 and 2.x)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.no_grad():
            torch.onnx.export(graph, args, buffer, **kwargs)
    proto = onnx.load_from_string(buffer.getvalue())
    onnx_tools.remove_identities(proto)
    onnx_tools.constants_to_initializers(proto)
    onnx_tools.share_duplicate_initializers(proto)
    onnx_tools.remove_unused(proto)
    proto.producer_name = "leaf-lens model/export.py"
    onnx.checker.check_model(proto)
    return proto, outputs


def build_graph_files(model: DeiT, fp16: bool = True, with_lrp: bool = True) -> Tuple[Dict[str, bytes], List[str]]:
    """All graph and weight files of a model folder, as bytes by file name, and every output the model has.

    One graph is traced (with attention_relevance when there is LRP); the full and forward graphs are
    prunings of it, so every graph of a precision reads the same initializers from one weights file. The lrp
    graph is written only when it has attention_relevance (otherwise it would equal the full graph)."""
    traced, outputs = trace_full_graph(model, with_lrp=with_lrp)
    has_lrp = "attention_relevance" in outputs
    files: Dict[str, bytes] = {}
    precisions = [("", traced)]
    if fp16:
        precisions.append(("_fp16", onnx_tools.to_fp16(traced)))
    cfg = model.config
    for suffix, top in precisions:
        graphs = {role: onnx_tools.extract_graph(top, names) for role, names in PRUNED_OUTPUTS.items()}
        if has_lrp:
            graphs["lrp"] = top
        for proto in graphs.values():  # the same surgery as add_layer_features_to_folder (shipped graphs)
            onnx_tools.add_layer_features(proto, cfg.depth, cfg.prefix_tokens, cfg.tokens)
        files[FILES["weights" + suffix]] = onnx_tools.attach_external_data(list(graphs.values()), FILES["weights" + suffix])
        for role, proto in graphs.items():
            files[FILES[role + suffix]] = proto.SerializeToString()
    return files, outputs + [onnx_tools.LAYER_FEATURES]


def add_layer_features_to_folder(model_dir: str) -> List[str]:
    """Adds the optional `layer_features` output to every graph of an exported model folder by graph surgery
    (for models whose PyTorch checkpoint is not at hand): the graph files and their manifest entries change,
    the weights files do not (so `backbone_sha256` and every head stay valid). Returns the rewritten graphs."""
    manifest_path = os.path.join(model_dir, "manifest.json")
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    changed = []
    for graph_file in manifest["graphs"].values():
        path = os.path.join(model_dir, graph_file)
        proto = onnx.load(path, load_external_data=False)
        if any(o.name == onnx_tools.LAYER_FEATURES for o in proto.graph.output):
            continue
        onnx_tools.add_layer_features(proto, manifest["layers"], manifest["prefix_tokens"], manifest["tokens"])
        data = proto.SerializeToString()
        write_bytes(path, data)
        onnx.checker.check_model(path)  # by path: the checker then finds the external weights beside it
        for entry in manifest["files"]:
            if entry["path"] == graph_file:
                entry.update(sha256=sha256_bytes(data), bytes=len(data))
        changed.append(graph_file)
    if onnx_tools.LAYER_FEATURES not in manifest["outputs"]:
        manifest["outputs"].append(onnx_tools.LAYER_FEATURES)
    write_json(manifest_path, manifest)
    return changed


# ---- head, manifest ---------------------------------------------------------------------------

def _finite_list(t: torch.Tensor) -> Any:
    if not torch.isfinite(t).all():
        raise ExportError("head has non-finite numbers")
    return [float(v) for v in t.tolist()] if t.dim() == 1 else [[float(v) for v in row] for row in t.tolist()]


def build_head(model: DeiT, labels: Sequence[str], backbone_sha256: str, trained: bool,
               metrics: Optional[Dict[str, Any]] = None, trained_on: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    weight, bias = model.head_matrix()
    if len(labels) != weight.shape[0]:
        raise ExportError(f"class-count mismatch: {len(labels)} labels for a head with {weight.shape[0]} classes")
    head: Dict[str, Any] = {
        "format": HEAD_FORMAT, "contract_version": CONTRACT_VERSION, "labels": list(labels),
        "features": model.config.features,
        "weight": _finite_list(weight.detach().float()), "bias": _finite_list(bias.detach().float()),
        "backbone_sha256": backbone_sha256, "trained": trained,
    }
    metrics = metrics or {}
    if "val_accuracy" in metrics:
        head["metrics"] = {"val_accuracy": metrics["val_accuracy"], "per_class": metrics.get("per_class", {})}
    if trained_on:
        head["trained_on"] = trained_on
    head["created"] = now_utc()
    return head


def check_labels(labels: Sequence[str]) -> None:
    import re

    bad = [label for label in labels if not re.fullmatch(r"[a-z0-9_]+", str(label))]
    if bad or len(set(labels)) != len(labels) or len(labels) < 2:
        raise ExportError(f"labels must be ≥ 2 unique ids of [a-z0-9_]+, got {list(labels)}")


def training_summary(ckpt: Dict[str, Any]) -> Dict[str, Any]:
    metrics, recipe = ckpt.get("metrics") or {}, ckpt.get("recipe") or {}
    line = recipe.get("summary") if isinstance(recipe, dict) else str(recipe)
    return {"recipe": line or metrics.get("recipe") or "untrained (random init)",
            "epochs": int(metrics.get("epochs", 0)), "seed": int(metrics.get("seed", 0)),
            "hardware": str(metrics.get("hardware", "none")),
            "val_accuracy": float(metrics.get("val_accuracy", 0.0))}


def build_manifest(model: DeiT, name: str, title: str, trained: bool, outputs: List[str],
                   file_entries: List[Dict[str, Any]], backbone_sha256: str, training: Dict[str, Any],
                   fp16: bool, version: str = "1.0.0") -> Dict[str, Any]:
    cfg = model.config
    roles = ["full", "forward"] + (["lrp"] if "attention_relevance" in outputs else [])
    graphs = {role: FILES[role] for role in roles}
    if fp16:
        graphs.update({f"{role}_fp16": FILES[f"{role}_fp16"] for role in roles})
    external = {file: FILES["weights_fp16" if role.endswith("_fp16") else "weights"] for role, file in graphs.items()}
    return {
        "contract_version": CONTRACT_VERSION, "name": name, "title": title, "version": version,
        "architecture": cfg.architecture, "trained": trained,
        "image_size": cfg.image_size, "patch_size": cfg.patch_size, "prefix_tokens": cfg.prefix_tokens,
        "layers": cfg.depth, "heads": cfg.heads, "tokens": cfg.tokens, "embed_dim": cfg.embed_dim,
        "features": cfg.features, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD), "opset": OPSET,
        "graphs": graphs, "external_data": external, "outputs": outputs, "files": file_entries,
        "default_head": "head.json", "backbone_sha256": backbone_sha256, "training": training,
        "created": now_utc(),
    }


# ---- writing ------------------------------------------------------------------------------------

def ensure_writable(folder: str) -> None:
    try:
        os.makedirs(folder, exist_ok=True)
        with atomic_write(os.path.join(folder, ".write-test")) as tmp:
            with open(tmp, "wb"):
                pass
        os.unlink(os.path.join(folder, ".write-test"))
    except OSError as err:
        raise ExportError(f"output folder {folder} is not writable: {err.strerror or err}") from None


def export_model(model: DeiT, out_dir: str, labels: Sequence[str], *, name: Optional[str] = None,
                 title: Optional[str] = None, trained: bool = True, ckpt: Optional[Dict[str, Any]] = None,
                 fp16: bool = True, with_lrp: bool = True) -> Dict[str, Any]:
    """Writes the whole model folder; returns the manifest."""
    ckpt = ckpt or {}
    labels = list(labels)
    check_labels(labels)
    if len(labels) != model.config.num_classes:
        raise ExportError(f"class-count mismatch: {len(labels)} labels, model has {model.config.num_classes} classes")
    name = name or os.path.basename(os.path.normpath(out_dir))
    ensure_writable(out_dir)
    files, outputs = build_graph_files(model, fp16=fp16, with_lrp=with_lrp)
    backbone_sha256 = sha256_bytes(files[FILES["weights"]])
    metrics = ckpt.get("metrics") or {}
    trained_on = None
    if trained and metrics.get("train_images"):
        recipe = ckpt.get("recipe") or {}
        data = recipe.get("data", "") if isinstance(recipe, dict) else ""
        trained_on = {"dataset": f"{os.path.basename(str(data).rstrip('/')) or 'image folder'} train split",
                      "images": int(metrics["train_images"])}
    head = build_head(model, labels, backbone_sha256, trained, metrics, trained_on)
    head_bytes = (json.dumps(head, allow_nan=False) + "\n").encode()
    metrics_out = dict(metrics) if metrics else {"trained": False, "note": "untrained test fixture (random init)"}
    files["head.json"] = head_bytes
    files["metrics.json"] = (json.dumps(metrics_out, indent=2, allow_nan=False) + "\n").encode()
    # The int8 download of the weights (what the app fetches; docs/model-contract.md, "int8 weights").
    int8_blob, int8_layout = quantize.build_int8({f: b for f, b in files.items() if f.endswith(".onnx")},
                                                 {f: b for f, b in files.items() if f.endswith(".weights")})
    files[quantize.INT8_FILE] = int8_blob
    files[quantize.LAYOUT_FILE] = quantize.layout_bytes(int8_layout)
    # Weights first, manifest last: a reader never sees a manifest naming files that are not there yet.
    order = [FILES["weights"], FILES["weights_fp16"], quantize.INT8_FILE] + [f for f in files if not f.endswith(".weights")]
    entries = []
    for file_name in order:
        if file_name not in files:
            continue
        write_bytes(os.path.join(out_dir, file_name), files[file_name])
        entries.append({"path": file_name, "sha256": sha256_bytes(files[file_name]), "bytes": len(files[file_name])})
    if title is None:
        size = "DeiT-tiny" if model.config.architecture.startswith("deit_tiny") else "DeiT"
        subject = "bean leaves" if labels == BEAN_LABELS else ", ".join(labels)
        title = f"{size}, {subject}" + ("" if trained else " (UNTRAINED test fixture)")
    manifest = build_manifest(model, name, title, trained, outputs, entries, backbone_sha256,
                              training_summary(ckpt) if trained else {**training_summary({}), "hardware": "none"},
                              fp16=fp16)
    manifest[quantize.MANIFEST_KEY] = quantize.manifest_field()
    # A previous export (with fp16 or LRP) must not leave stale graph files that the new manifest does not list.
    for stale in [*FILES.values(), quantize.INT8_FILE, quantize.LAYOUT_FILE]:
        path = os.path.join(out_dir, stale)
        if stale not in files and os.path.exists(path):
            os.unlink(path)
    write_json(os.path.join(out_dir, "manifest.json"), manifest)
    return manifest


def export_head_only(checkpoint: str, backbone_manifest: str, out: str) -> Dict[str, Any]:
    """A head.json for an existing backbone: the checkpoint's backbone must be that backbone."""
    try:
        with open(backbone_manifest, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise ExportError(f"backbone manifest not found: {backbone_manifest}") from None
    except (OSError, ValueError) as err:
        raise ExportError(f"cannot read backbone manifest {backbone_manifest}: {err}") from None
    model, ckpt = load_checkpoint(checkpoint)
    labels = ckpt.get("labels") or []
    check_labels(labels)
    cfg = model.config
    for key, have in (("features", cfg.features), ("image_size", cfg.image_size), ("layers", cfg.depth),
                      ("embed_dim", cfg.embed_dim), ("prefix_tokens", cfg.prefix_tokens)):
        if manifest.get(key) != have:
            raise ExportError(f"architecture mismatch: backbone {key} = {manifest.get(key)}, checkpoint has {have}")
    # The backbone is identified by its weights: re-trace this checkpoint's backbone and compare.
    weights_path = os.path.join(os.path.dirname(backbone_manifest), manifest.get("external_data", {}).get(
        "model.onnx", "model.weights"))
    files, _ = build_graph_files(model, fp16=False, with_lrp=False)
    mine = sha256_bytes(files[FILES["weights"]])
    if mine != manifest.get("backbone_sha256") and not _same_backbone(files, weights_path):
        raise ExportError("backbone mismatch: the checkpoint's backbone weights differ from "
                          f"{backbone_manifest}'s (was the backbone frozen while training this head?)")
    head = build_head(model, labels, manifest["backbone_sha256"], True, ckpt.get("metrics"))
    write_json(out, head, indent=None)
    return head


# The share of val photos the open-set threshold may refuse. 0.04 (not 0.03) was chosen on a development set of
# out-of-domain leaf photos kept apart from the committed test set (docs/benchmarks.md, eval:domain): other crops'
# leaves refused 76 % -> 86 % there, while val stays under the 5 % target with a margin for unseen bean photos.
DEFAULT_VAL_REFUSAL = 0.04


def fit_domain_from_records(records_path: str, model_dir: str, *, score: str = "mahalanobis",
                            val_refusal: float = DEFAULT_VAL_REFUSAL,
                            layer_rows: Optional[Sequence[int]] = None) -> Dict[str, Any]:
    """Adds statistics / calibration / open_set / confidence to a model folder's default head, from a records file
    of `npm run eval:domain -- --dump` (train photos → statistics; val photos → temperature and thresholds)."""
    manifest_path = os.path.join(model_dir, "manifest.json")
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
        with open(records_path, encoding="utf-8") as f:
            records = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise ExportError(f"cannot read {manifest_path} or {records_path}: {err}") from err
    head_path = os.path.join(model_dir, manifest["default_head"])
    with open(head_path, encoding="utf-8") as f:
        head = json.load(f)
    if records.get("labels") != head["labels"]:
        raise ExportError(f"records labels {records.get('labels')} != head labels {head['labels']}")
    import numpy as np

    def split(name: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = [r for r in records["photos"] if r["split"] == name]
        if not rows:
            raise ExportError(f"{records_path} has no '{name}' photos (dump with --splits train,val)")
        feats = np.asarray([r["features"] for r in rows], dtype=np.float64)
        if feats.shape[1] != head["features"]:
            raise ExportError(f"records have {feats.shape[1]} features, the head {head['features']}")
        return feats, np.asarray([r["logits"] for r in rows], dtype=np.float64), np.asarray([r["label"] for r in rows])

    train_x, _, train_y = split("train")
    val_x, val_logits, val_y = split("val")
    try:
        fields, report = fit_domain(train_x, train_y, val_x, val_logits, val_y, len(head["labels"]), score=score,
                                    val_refusal=val_refusal)
    except DomainError as err:
        raise ExportError(str(err)) from err
    for key in ("statistics", "calibration", "open_set", "confidence", "layer_statistics"):
        head.pop(key, None)
    head.update(round_fields(fields))
    report["labels"] = list(head["labels"])
    if layer_rows:
        report["layers"] = fit_layer_fields(head, records, manifest, list(layer_rows), val_logits, val_y, val_refusal)
    validate_domain_fields(head)
    head_bytes = (json.dumps(head, allow_nan=False) + "\n").encode()
    write_bytes(head_path, head_bytes)
    for entry in manifest["files"]:
        if entry["path"] == manifest["default_head"]:
            entry.update(sha256=sha256_bytes(head_bytes), bytes=len(head_bytes))
    write_json(manifest_path, manifest)
    return report


def write_fit_report(path: str, report: Dict[str, Any]) -> None:
    """The numbers behind the fitted fields that the docs show (eval:domain reads the teach margins)."""
    margins = {}
    if "teach_margin" in report:
        margins["open_set"] = report["teach_margin"]
    if "teach_margin" in report.get("layers", {}):
        margins["layer_statistics"] = report["layers"]["teach_margin"]
    out = {"kind": "domain-fit", "labels": report["labels"], "train_photos": report["train_photos"], "val_photos": report["val_photos"],
           "teach_margin": {rule: {**m, "left_out": [{"label": report["labels"][e["class"]], **{k: v for k, v in e.items() if k != "class"}}
                                                      for e in m["left_out"]]} for rule, m in margins.items()}}
    write_json(path, out)


def fit_layer_fields(head: Dict[str, Any], records: Dict[str, Any], manifest: Dict[str, Any], rows: List[int],
                     val_logits: Any, val_labels: Any, val_refusal: float) -> Dict[str, Any]:
    """Adds `layer_statistics` (model/layers.py: Gaussians of the chosen layer_features rows on the train photos,
    Fisher threshold on val) and re-fits `confidence` on the val photos this rule accepts."""
    import numpy as np
    from model.domain import fit_min_probability, fit_teach_margin, softmax, threshold_at_refusal
    from model.layers import encode, fit_layer_statistics, held_out_scores as layer_held_out_scores, layer_scores

    def layers_of(split: str) -> Any:
        rows_ = [r for r in records["photos"] if r["split"] == split]
        if not all("layerFeatures" in r for r in rows_):
            raise ExportError(f"{split} records lack layerFeatures (dump with graphs that have layer_features)")
        return np.asarray([r["layerFeatures"] for r in rows_], dtype=np.float64).reshape(len(rows_), 2 * manifest["layers"], manifest["embed_dim"])

    train, val = layers_of("train"), layers_of("val")
    stats = fit_layer_statistics(train, rows, manifest["layers"])
    val_scores = layer_scores(stats, val)
    threshold = threshold_at_refusal(val_scores, val_refusal)
    train_y = np.asarray([r["label"] for r in records["photos"] if r["split"] == "train"])
    margin, teach = fit_teach_margin(layer_held_out_scores(train, train_y, val, np.asarray(val_labels), rows, manifest["layers"]),
                                     len(head["labels"]), val_refusal)
    head["layer_statistics"] = encode(stats, threshold, margin)
    accepted = val_scores <= threshold
    calibrated = softmax(val_logits, head["calibration"]["temperature"])
    min_probability, sure = fit_min_probability(calibrated, np.asarray(val_labels), accepted, 0.98, 0.85)
    head["confidence"] = {"min_probability": min_probability}
    return {"rows": rows, "threshold": threshold, "val_refused": float(1 - accepted.mean()), "sure": sure, "teach_margin": teach}


def _same_backbone(files: Dict[str, bytes], weights_path: str) -> bool:
    """Compares this checkpoint's forward graph with the backbone's, tensor by tensor in graph order,
    ignoring initializer names (they differ between torch versions) and rounding-level differences
    (≤ 1e-5 of a tensor's magnitude, e.g. from averaging frozen weights)."""
    import numpy as np
    from onnx import numpy_helper

    try:
        with open(os.path.join(os.path.dirname(weights_path), FILES["forward"]), "rb") as f:
            shipped = onnx.load_from_string(f.read())
        with open(weights_path, "rb") as f:
            shipped = onnx_tools.load_external_data(shipped, f.read())
    except (OSError, ValueError, KeyError):
        return False
    mine = onnx_tools.load_external_data(onnx.load_from_string(files[FILES["forward"]]), files[FILES["weights"]])
    a = [numpy_helper.to_array(t) for t in mine.graph.initializer]
    b = [numpy_helper.to_array(t) for t in shipped.graph.initializer]
    if len(a) != len(b) or any(x.shape != y.shape or x.dtype != y.dtype for x, y in zip(a, b)):
        return False
    for x, y in zip(a, b):
        if x.dtype.kind != "f":
            if not np.array_equal(x, y):
                return False
            continue
        scale = max(1.0, float(np.abs(y).max(initial=0.0)))
        if float(np.abs(x.astype(np.float64) - y).max(initial=0.0)) > 1e-5 * scale:
            return False
    return True


# ---- CLI ------------------------------------------------------------------------------------------

def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", help="checkpoint from train.py (or a timm state_dict)")
    p.add_argument("--out", required=True, help="model folder (or head.json path with --head-only)")
    p.add_argument("--name", help="manifest name (default: the folder name)")
    p.add_argument("--title", help="manifest title, for people")
    p.add_argument("--random-init", action="store_true", help="export an UNTRAINED model (test fixtures)")
    p.add_argument("--config", default="tiny", help="preset for --random-init: tiny, micro, micro-distilled, …")
    p.add_argument("--seed", type=int, default=0, help="seed of --random-init")
    p.add_argument("--labels", default=",".join(BEAN_LABELS), help="comma-separated labels for --random-init")
    p.add_argument("--no-fp16", action="store_true", help="skip the fp16 graphs")
    p.add_argument("--no-lrp", action="store_true", help="no lrp graph (attention_relevance)")
    p.add_argument("--head-only", action="store_true", help="write only a head.json for an existing backbone")
    p.add_argument("--backbone-manifest", help="with --head-only: the backbone's manifest.json")
    p.add_argument("--fit-domain", metavar="RECORDS", help="add the open-set / calibration fields to the head of the "
                   "model folder --out, from `npm run eval:domain -- --dump RECORDS --splits train,val`")
    p.add_argument("--open-set-score", default="mahalanobis", choices=["mahalanobis", "relative_mahalanobis"])
    p.add_argument("--layer-rows", help="with --fit-domain: comma-separated rows of layer_features for the layer "
                   "open-set score (model/ood_select.py chose 17,18,9,10,11 for deit-tiny-beans: patch 5-6, CLS 9-11)")
    p.add_argument("--fit-report", metavar="FILE", help="with --fit-domain: write how the fields were set as JSON "
                   "(docs/bench/domain-fit.json; eval:domain shows its teach margins)")
    p.add_argument("--val-refusal", type=float, default=DEFAULT_VAL_REFUSAL,
                   help="share of the val photos the open-set threshold may refuse (target: ≤ 0.05 on unseen photos)")
    p.add_argument("--add-layer-features", action="store_true", help="add the optional layer_features output to "
                   "every graph of the existing model folder --out (graph surgery; the weights files do not change)")
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> str:
    if args.add_layer_features:
        changed = add_layer_features_to_folder(args.out)
        return f"{args.out}: layer_features added to {', '.join(changed) or 'no graph (all had it)'}"
    if args.fit_domain:
        rows = [int(v) for v in args.layer_rows.split(",")] if args.layer_rows else None
        r = fit_domain_from_records(args.fit_domain, args.out, score=args.open_set_score, val_refusal=args.val_refusal,
                                    layer_rows=rows)
        if args.fit_report:
            write_fit_report(args.fit_report, r)
        sure = r["layers"]["sure"] if "layers" in r else r["sure"]
        if "layers" in r:
            r["threshold"], r["val_refused"] = r["layers"]["threshold"], r["layers"]["val_refused"]
        return (f"fitted on {r['train_photos']} train / {r['val_photos']} val photos: shrinkage {r['shrinkage']:.4f} "
                f"(Ledoit-Wolf), T {r['temperature']:.3f} (ECE {r['ece_before']:.3f} -> {r['ece_after']:.3f}, NLL "
                f"{r['nll_before']:.3f} -> {r['nll_after']:.3f}), threshold {r['threshold']:.2f} (val refused "
                f"{r['val_refused']:.1%}), sure {sure['sure']}/{sure['photos']} ({sure['share']:.1%}) right "
                f"{sure['precision']:.1%}; both targets met: {sure['both_met']} (favoured: {sure['favoured']})")
    if args.head_only:
        if not args.checkpoint or not args.backbone_manifest:
            raise ExportError("--head-only needs --checkpoint and --backbone-manifest")
        head = export_head_only(args.checkpoint, args.backbone_manifest, args.out)
        return f"wrote {args.out} ({len(head['labels'])} classes, features {head['features']})"
    if args.random_init:
        labels = [s.strip() for s in args.labels.split(",") if s.strip()]
        torch.manual_seed(args.seed)
        model = DeiT(preset(args.config, num_classes=len(labels))).eval()
        name = args.name or os.path.basename(os.path.normpath(args.out))
        if not name.startswith("fixture-"):
            raise ExportError(f"an untrained model's name must start with 'fixture-', got '{name}'")
        ckpt: Dict[str, Any] = {}
        trained = False
    else:
        if not args.checkpoint:
            raise ExportError("give --checkpoint (or --random-init for an untrained fixture)")
        if not os.path.isfile(args.checkpoint):
            raise ExportError(f"checkpoint not found: {args.checkpoint}")
        model, ckpt = load_checkpoint(args.checkpoint)
        labels = list(ckpt.get("labels") or [])
        if not labels:
            raise ExportError(f"{args.checkpoint} has no 'labels' (a raw timm checkpoint needs training first)")
        name = args.name
        trained = True
    manifest = export_model(model, args.out, labels, name=name, title=args.title, trained=trained, ckpt=ckpt,
                            fp16=not args.no_fp16, with_lrp=not args.no_lrp)
    total = sum(f["bytes"] for f in manifest["files"])
    return (f"wrote {args.out}: {len(manifest['files'])} files, {total / 1e6:.1f} MB, outputs "
            f"{', '.join(manifest['outputs'])}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        print(run(args))
    except (ExportError, ValueError, FileNotFoundError, PermissionError) as err:
        print(f"export: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
