"""What the exporter writes matches docs/model-contract.md's `json contract` block: graph input/output names,
dtypes and shapes, opset, manifest and head fields, file sizes and sha256. Checked on a fresh export, on the
committed fixtures, and on the shipped model when there is one."""
from __future__ import annotations

import json
import os
import re
import unicodedata
from typing import Any, Dict, List

import onnx
import pytest
from onnx import TensorProto

from model.common import sha256_file
from model.domain import DOMAIN_FIELDS, FEATURE_NORM, OPEN_SET_SCORES, validate_domain_fields

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = os.path.join(ROOT, "public", "models", "deit-tiny-beans")
SHIP_FLOOR = 0.85  # issue 3; the app's src/store/modelQuality.ts ACCURACY_FLOOR
FIXTURES = [os.path.join(ROOT, "public", "models", name)
            for name in ("fixture-deit-micro", "fixture-deit-micro-distilled")]
DTYPES = {"float32": TensorProto.FLOAT}


def contract_block() -> Dict[str, Any]:
    with open(os.path.join(ROOT, "docs", "model-contract.md"), encoding="utf-8") as f:
        doc = f.read()
    match = re.search(r"```json contract\n(.*?)```", doc, re.S)
    assert match, "docs/model-contract.md has no ```json contract block"
    return json.loads(match.group(1))


CONTRACT = contract_block()


def dims(value_info: onnx.ValueInfoProto) -> List[Any]:
    return [d.dim_param if d.dim_param else d.dim_value for d in value_info.type.tensor_type.shape.dim]


def expected_dims(shape: List[Any], symbols: Dict[str, int]) -> List[Any]:
    """Contract shape → what the graph must declare: numbers, the resolved S/F/L/H/N, and a symbolic C."""
    out: List[Any] = []
    for d in shape:
        if isinstance(d, int):
            out.append(d)
        elif d == "C":
            out.append("classes")
        else:
            out.append(symbols[d])
    return out


def check_graph(path: str, kind: str, manifest: Dict[str, Any]) -> List[str]:
    """Checks one graph of role ``kind`` (fp16 roles given as their fp32 role); returns its output names."""
    onnx.checker.check_model(path)  # by path, so external data resolves next to the graph
    model = onnx.load(path, load_external_data=False)
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    assert opset >= CONTRACT["min_opset"] and opset == manifest["opset"]
    symbols = {"S": manifest["image_size"], "F": manifest["features"], "L": manifest["layers"],
               "H": manifest["heads"], "N": manifest["tokens"], "D": manifest["embed_dim"], "R": 2 * manifest["layers"]}
    inputs = list(model.graph.input)
    assert [i.name for i in inputs] == [i["name"] for i in CONTRACT["inputs"]]
    for got, want in zip(inputs, CONTRACT["inputs"]):
        assert got.type.tensor_type.elem_type == DTYPES[want["dtype"]], want["name"]
        assert dims(got) == expected_dims(want["shape"], symbols), want["name"]
    wanted = [o for o in CONTRACT["outputs"] if kind in o["graphs"]
              and (not o["optional"] or o["name"] in manifest["outputs"])]
    outputs = list(model.graph.output)
    assert [o.name for o in outputs] == [o["name"] for o in wanted]
    for got, want in zip(outputs, wanted):
        assert got.type.tensor_type.elem_type == DTYPES[want["dtype"]], want["name"]
        assert dims(got) == expected_dims(want["shape"], symbols), want["name"]
    # External data: every big tensor lives in the weights file the manifest names, inside its bounds.
    weights = manifest["external_data"][os.path.basename(path)]
    size = os.path.getsize(os.path.join(os.path.dirname(path), weights))
    external = [t for t in model.graph.initializer if t.data_location == TensorProto.EXTERNAL]
    assert external, "no external data"
    for t in external:
        info = {e.key: e.value for e in t.external_data}
        assert info["location"] == weights
        assert int(info.get("offset", 0)) + int(info["length"]) <= size
    return [o.name for o in outputs]


def validate_model_folder(folder: str) -> Dict[str, Any]:
    """Every contract rule a model folder must satisfy; returns its manifest."""
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    missing = [k for k in CONTRACT["manifest_required"] if k not in manifest]
    assert not missing, f"manifest lacks {missing}"
    assert manifest["contract_version"] == CONTRACT["contract_version"]
    assert manifest["name"] == os.path.basename(folder)
    grid = manifest["image_size"] // manifest["patch_size"]
    assert manifest["image_size"] % manifest["patch_size"] == 0
    assert manifest["tokens"] == grid * grid + manifest["prefix_tokens"]
    assert manifest["features"] == manifest["embed_dim"] * manifest["prefix_tokens"]
    if not manifest["trained"]:
        assert manifest["name"].startswith("fixture-")
    # Files: listed with the right size and sha256; graphs and weights all listed.
    listed = {f["path"]: f for f in manifest["files"]}
    for entry in manifest["files"]:
        path = os.path.join(folder, entry["path"])
        assert os.path.getsize(path) == entry["bytes"], entry["path"]
        assert sha256_file(path) == entry["sha256"], entry["path"]
    assert set(manifest["graphs"]) <= set(CONTRACT["graph_roles"])
    assert {"full", "forward"} <= set(manifest["graphs"])
    # `outputs` = every output of the model, over all its graphs; the lrp graph exactly when there is relevance.
    assert ("lrp" in manifest["graphs"]) == ("attention_relevance" in manifest["outputs"])
    if "lrp_fp16" in manifest["graphs"]:
        assert "full_fp16" in manifest["graphs"]
    seen: List[str] = []
    for role, file_name in manifest["graphs"].items():
        assert file_name == CONTRACT["graph_roles"][role]
        assert file_name in listed and manifest["external_data"][file_name] in listed
        seen += check_graph(os.path.join(folder, file_name), role.replace("_fp16", ""), manifest)
        # All graphs of one precision share one weights file.
        base = "model.fp16.onnx" if role.endswith("_fp16") else "model.onnx"
        assert manifest["external_data"][file_name] == manifest["external_data"][base]
    assert sorted(set(seen)) == sorted(manifest["outputs"])
    assert sha256_file(os.path.join(folder, manifest["external_data"]["model.onnx"])) == manifest["backbone_sha256"]
    required_outputs = [o["name"] for o in CONTRACT["outputs"] if not o["optional"]]
    assert manifest["outputs"][: len(required_outputs)] == required_outputs
    # The default head fits the backbone.
    assert manifest["default_head"] in listed
    with open(os.path.join(folder, manifest["default_head"]), encoding="utf-8") as f:
        head = json.load(f)
    validate_head(head, manifest)
    return manifest


def label_key(label: str) -> str:
    decomposed = unicodedata.normalize("NFD", " ".join(label.replace("_", " ").split()))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def taught_label_ok(label: str) -> bool:
    """The contract's rule for a taught label: NFC, trimmed, single spaces, 1..max code points, no control chars."""
    return (0 < len(label) <= CONTRACT["taught_label_max_length"]
            and unicodedata.normalize("NFC", label) == label
            and " ".join(label.split()) == label
            and not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in label))


def validate_head(head: Dict[str, Any], manifest: Dict[str, Any]) -> None:
    missing = [k for k in CONTRACT["head_required"] if k not in head]
    assert not missing, f"head lacks {missing}"
    assert head["format"] == CONTRACT["head_format"]
    assert head["contract_version"] == CONTRACT["contract_version"]
    assert head["features"] == manifest["features"]
    assert head["backbone_sha256"] == manifest["backbone_sha256"]
    labels = head["labels"]
    assert 2 <= len(labels) <= CONTRACT["max_classes"] and len(set(labels)) == len(labels)
    taught = {c["label"] for c in head.get("taught", {}).get("classes", [])}
    assert all(label in taught or re.fullmatch(CONTRACT["label_pattern"].strip("^$"), label) for label in labels)
    for label in taught & set(labels):
        assert taught_label_ok(label), f"taught label {label!r} breaks the rule"
    # Unique ignoring case and accents (a taught "Bean rust" next to bean_rust is refused).
    keys = [label_key(label) for label in labels]
    assert len(set(keys)) == len(keys)
    assert len(head["weight"]) == len(labels) and len(head["bias"]) == len(labels)
    assert all(len(row) == manifest["features"] for row in head["weight"])
    numbers = [v for row in head["weight"] for v in row] + list(head["bias"])
    assert all(isinstance(v, (int, float)) and abs(v) < float("inf") for v in numbers)
    assert head["trained"] == manifest["trained"]
    # Optional fields (statistics, calibration, open_set, confidence): the contract's rules (model/domain.py).
    validate_domain_fields(head)


def test_contract_names_the_optional_head_fields_python_implements() -> None:
    assert set(DOMAIN_FIELDS) <= set(CONTRACT["head_optional"])
    assert tuple(CONTRACT["open_set_scores"]) == OPEN_SET_SCORES
    assert CONTRACT["statistics_feature_norm"] == FEATURE_NORM


def test_fresh_export_matches_contract(exported_micro: str) -> None:
    manifest = validate_model_folder(exported_micro)
    assert manifest["trained"] is False
    assert set(manifest["graphs"]) == set(CONTRACT["graph_roles"])  # fp16 included
    assert manifest["prefix_tokens"] == 2 and manifest["features"] == 2 * manifest["embed_dim"]


@pytest.mark.parametrize("folder", FIXTURES, ids=os.path.basename)
def test_committed_fixture_matches_contract(folder: str) -> None:
    manifest = validate_model_folder(folder)
    assert manifest["trained"] is False


def test_shipped_model_matches_its_files() -> None:
    """The app's model (public/models/deit-tiny-beans): a trained DeiT-tiny at or above the ship floor."""
    manifest = validate_model_folder(SHIPPED)
    assert manifest["trained"] is True
    assert manifest["architecture"] in ("deit_tiny_patch16_224", "deit_tiny_distilled_patch16_224", "deit_custom")
    assert (manifest["layers"], manifest["heads"], manifest["embed_dim"]) == (12, 3, 192)
    assert manifest["training"]["val_accuracy"] >= SHIP_FLOOR
    with open(os.path.join(SHIPPED, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    # The manifest's figure is the training run's own, not a number typed in afterwards.
    assert metrics["val_accuracy"] == manifest["training"]["val_accuracy"]
    assert metrics["val_images"] == sum(map(sum, metrics["confusion"])) == 130
    # It knows when it does not know: statistics of the 1,037 training photos and a refusal rule.
    with open(os.path.join(SHIPPED, manifest["default_head"]), encoding="utf-8") as f:
        head = json.load(f)
    assert set(DOMAIN_FIELDS) <= set(head)
    assert sum(head["statistics"]["class_counts"]) == metrics["train_images"] == 1037


def test_validation_catches_a_changed_file_and_a_wrong_output_shape(exported_micro: str, tmp_path) -> None:
    import shutil

    folder = str(tmp_path / os.path.basename(exported_micro))
    shutil.copytree(exported_micro, folder)
    with open(os.path.join(folder, "model.weights"), "r+b") as f:
        byte = f.read(1)
        f.seek(0)
        f.write(bytes([byte[0] ^ 1]))
    with pytest.raises(AssertionError):
        validate_model_folder(folder)
    shutil.rmtree(folder)
    shutil.copytree(exported_micro, folder)
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    manifest["tokens"] += 1
    manifest["image_size"] = manifest["patch_size"] * 5  # consistent tokens formula, wrong for the graph
    manifest["tokens"] = 25 + manifest["prefix_tokens"]
    with open(os.path.join(folder, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f)
    with pytest.raises(AssertionError):
        validate_model_folder(folder)


def test_taught_labels_follow_the_contract() -> None:
    """A head taught on a phone (free-text labels listed in `taught.classes`) passes; the label rule is enforced."""
    folder = FIXTURES[0]
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    with open(os.path.join(folder, manifest["default_head"]), encoding="utf-8") as f:
        shipped = json.load(f)

    def taught_with(*labels: str, listed: bool = True) -> Dict[str, Any]:
        head = json.loads(json.dumps(shipped))
        for label in labels:
            head["labels"].append(label)
            head["weight"].append([0.0] * manifest["features"])
            head["bias"].append(0.0)
        if listed:
            head["taught"] = {"classes": [{"label": label, "note": "", "photos": 5, "created": "2026-11-30T00:00:00Z"}
                                          for label in labels], "local_examples": {}, "method": "lda", "input_scale": 1.0}
        return head

    validate_head(taught_with("Antracnosis del frijol", "Ugonjwa wa madoa", "豆炭疽病"), manifest)
    for bad in (taught_with("Mancha angular", listed=False), taught_with(" padded "), taught_with("x" * 41),
                taught_with("Bean Rust"), taught_with("tab\tname"),
                taught_with(*[f"Class {i}" for i in range(CONTRACT["max_classes"] - len(shipped["labels"]) + 1)])):
        with pytest.raises(AssertionError):
            validate_head(bad, manifest)
