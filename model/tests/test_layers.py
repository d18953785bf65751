"""The optional `layer_features` output (graph surgery and export) and the layer open-set score (model/layers.py).
The surgery's VALUES are checked against PyTorch by test/model/onnx-fixture.test.ts (onnxruntime-node runs the
committed fixture graphs; the expected layer_features come from model/graph.py layer_features_reference)."""
from __future__ import annotations

import json
import math
import os
import shutil

import numpy as np
import onnx
import pytest

from model import onnx_tools
from model.common import sha256_file
from model.domain import DomainError
from model.export import add_layer_features_to_folder
from model.graph import FORWARD_OUTPUTS, FULL_OUTPUTS
from model.layers import LAYER_SCORE, decode, encode, fit_layer_statistics, layer_scores, log_normal_sf, row_distances


def outputs_of(path: str) -> list:
    return [o.name for o in onnx.load(path, load_external_data=False).graph.output]


def test_export_gives_every_graph_layer_features(exported_micro: str) -> None:
    with open(os.path.join(exported_micro, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    assert manifest["outputs"][-1] == "layer_features"
    for graph in manifest["graphs"].values():
        model = onnx.load(os.path.join(exported_micro, graph), load_external_data=False)
        out = next(o for o in model.graph.output if o.name == "layer_features")
        dims = [d.dim_value for d in out.type.tensor_type.shape.dim]
        assert dims == [1, 2 * manifest["layers"], manifest["embed_dim"]], graph
        assert out.type.tensor_type.elem_type == onnx.TensorProto.FLOAT, graph
        # Only Slice/ReduceMean/Concat (+ Cast in fp16) were added: ops the WebGPU and WASM EPs have.
        added = {n.op_type for n in model.graph.node if n.name.startswith("layer_features/")}
        assert added <= {"Slice", "ReduceMean", "Concat", "Cast"}


def test_surgery_on_an_exported_folder_keeps_the_weights(exported_micro: str, tmp_path) -> None:
    folder = str(tmp_path / "model")
    shutil.copytree(exported_micro, folder)
    manifest_path = os.path.join(folder, "manifest.json")
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    # Make it a folder from before the output existed: graphs pruned to the old outputs, the name unlisted.
    old = {"full": FULL_OUTPUTS, "forward": FORWARD_OUTPUTS, "lrp": FULL_OUTPUTS + ["attention_relevance"]}
    for role, graph in manifest["graphs"].items():
        path = os.path.join(folder, graph)
        model = onnx.load(path, load_external_data=False)
        onnx_tools.remove_unused(model, old[role.replace("_fp16", "")])
        onnx.save(model, path)
    manifest["outputs"].remove("layer_features")
    with open(manifest_path, "w", encoding="utf-8") as f:
        json.dump(manifest, f)
    weights = {w: sha256_file(os.path.join(folder, w)) for w in set(manifest["external_data"].values())}

    changed = add_layer_features_to_folder(folder)
    assert sorted(changed) == sorted(manifest["graphs"].values())
    with open(manifest_path, encoding="utf-8") as f:
        after = json.load(f)
    assert after["outputs"][-1] == "layer_features"
    assert {w: sha256_file(os.path.join(folder, w)) for w in weights} == weights
    assert after["backbone_sha256"] == sha256_file(os.path.join(folder, "model.weights"))
    for entry in after["files"]:
        assert sha256_file(os.path.join(folder, entry["path"])) == entry["sha256"], entry["path"]
    for graph in after["graphs"].values():
        assert outputs_of(os.path.join(folder, graph))[-1] == "layer_features"
    assert add_layer_features_to_folder(folder) == []  # idempotent


def test_surgery_refuses_a_graph_it_does_not_understand(exported_micro: str) -> None:
    model = onnx.load(os.path.join(exported_micro, "model.forward.onnx"), load_external_data=False)
    onnx_tools.remove_unused(model, FORWARD_OUTPUTS)
    with pytest.raises(ValueError, match="LayerNormalization"):
        onnx_tools.add_layer_features(model, layers=5, prefix_tokens=1, tokens=17)


def test_log_normal_sf_is_continuous_and_exact() -> None:
    z = np.array([-3.0, 0.0, 1.0, 4.999, 5.0, 5.001, 10.0, 40.0])
    got = log_normal_sf(z)
    exact = [math.log(0.5 * math.erfc(v / math.sqrt(2))) for v in z[:7]]
    assert np.allclose(got[:7], exact, rtol=2e-7, atol=1e-9)
    assert np.isfinite(got[7]) and got[7] < -790  # erfc underflows there; the series does not


def synthetic_layers(n: int, rows: int, width: int, seed: int, shift: float = 0.0) -> np.ndarray:
    base = np.random.default_rng(0).normal(size=(width,))
    direction = np.random.default_rng(99).normal(size=(width,))
    return base + shift * direction + 0.3 * np.random.default_rng(seed).normal(size=(n, rows, width))


def test_layer_score_is_fisher_over_rows_and_survives_the_head_encoding() -> None:
    train = synthetic_layers(300, 6, 8, seed=1)
    stats = fit_layer_statistics(train, rows=[1, 4], layers=3)
    photos = np.concatenate([synthetic_layers(5, 6, 8, seed=2), synthetic_layers(5, 6, 8, seed=2, shift=0.8)])
    scores = layer_scores(stats, photos)
    # Direct computation, row by row.
    d2 = row_distances(stats, photos)
    m = np.array([e["log_d2_mean"] for e in stats["rows"]])
    s = np.array([e["log_d2_sd"] for e in stats["rows"]])
    direct = [-2 * sum(math.log(0.5 * math.erfc((math.log(d2[i, j]) - m[j]) / s[j] / math.sqrt(2))) for j in range(2))
              for i in range(len(photos))]
    assert np.allclose(scores, direct, rtol=1e-6)
    assert scores[5:].min() > scores[:5].max()  # shifted photos score higher
    # Through the head (float32 base64, upper triangle) the scores stay within float32 rounding.
    field = encode(stats, threshold=12.5, teach_margin=2.25)
    assert field["score"] == LAYER_SCORE and field["threshold"] == 12.5
    again = decode(json.loads(json.dumps(field)), embed_dim=8)
    assert np.allclose(layer_scores(again, photos), scores, rtol=1e-4)
    assert again["teach_margin"] == 2.25 and "teach_margin" not in decode(encode(stats, threshold=12.5), embed_dim=8)


def test_decode_refuses_broken_layer_statistics() -> None:
    field = encode(fit_layer_statistics(synthetic_layers(50, 4, 6, seed=3), rows=[0, 3], layers=2), threshold=9.0)
    broken = [
        {**field, "score": "mahalanobis"},
        {**field, "threshold": float("nan")},
        {**field, "rows": []},
        {**field, "rows": [field["rows"][0], field["rows"][0]]},                       # duplicate row
        {**field, "rows": [{**field["rows"][0], "row": 4}]},                            # beyond 2·layers
        {**field, "rows": [{**field["rows"][0], "mean": field["rows"][0]["mean"][:-8]}]},  # too few numbers
        {**field, "rows": [{**field["rows"][0], "log_d2_sd": 0}]},
        {**field, "rows": [{**field["rows"][0], "shrinkage": 1.5}]},
        {**field, "rows": [{**field["rows"][0], "shrinkage": 0}]},
        {**field, "teach_margin": 0.5},
        {**field, "teach_margin": float("inf")},
        {**field, "threshold": -1.0, "teach_margin": 2.0},
    ]
    for bad in broken:
        with pytest.raises(DomainError):
            decode(bad, embed_dim=6)
    assert len(decode(field, embed_dim=6)["rows"]) == 2


def test_committed_reference_for_the_engine_is_what_python_computes(repo_root: str) -> None:
    from model.layers import REFERENCE, reference_case

    with open(os.path.join(repo_root, REFERENCE), encoding="utf-8") as f:
        committed = json.load(f)
    fresh = reference_case()
    assert committed["layer_statistics"] == json.loads(json.dumps(fresh["layer_statistics"]))
    assert np.allclose(committed["scores"], fresh["scores"], rtol=1e-12)
    assert np.allclose(committed["scores_after_adding"], fresh["scores_after_adding"], rtol=1e-12)


def test_shipped_head_has_valid_layer_statistics_of_the_chosen_rows(repo_root: str) -> None:
    from model.domain import validate_domain_fields

    folder = os.path.join(repo_root, "public", "models", "deit-tiny-beans")
    with open(os.path.join(folder, "head.json"), encoding="utf-8") as f:
        head = json.load(f)
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    validate_domain_fields(head)
    stats = decode(head["layer_statistics"], manifest["embed_dim"])
    layers = manifest["layers"]
    assert [r["row"] for r in stats["rows"]] == [layers + 5, layers + 6, 9, 10, 11]
    assert all(r["count"] == head["trained_on"]["images"] for r in stats["rows"])
    # A photo at the pooled means is in domain; the rule refuses a photo far from them.
    at_mean = np.zeros((1, 2 * layers, manifest["embed_dim"]))
    for r in stats["rows"]:
        at_mean[0, r["row"]] = r["mean"]
    assert layer_scores(stats, at_mean)[0] < stats["threshold"]
    assert layer_scores(stats, np.ones((1, 2 * layers, manifest["embed_dim"])))[0] > stats["threshold"]


def test_fit_domain_with_layer_rows_writes_a_valid_head(exported_micro: str, tmp_path) -> None:
    """export.py --fit-domain RECORDS --layer-rows: layer_statistics from the train records only, the threshold at
    4 % of val, confidence re-fitted; the manifest's head entry follows the new bytes."""
    from model.domain import validate_domain_fields
    from model.export import fit_domain_from_records

    folder = str(tmp_path / "model")
    shutil.copytree(exported_micro, folder)
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    layers, width, features = manifest["layers"], manifest["embed_dim"], manifest["features"]
    rng = np.random.default_rng(4)
    centres = rng.normal(size=(3, features))
    base_layers = rng.normal(size=(2 * layers, width))
    photos = []
    for split, per_class in (("train", 60), ("val", 25)):
        for label in range(3):
            for _ in range(per_class):
                feats = centres[label] + 0.3 * rng.normal(size=features)
                logits = [float(v) for v in -np.linalg.norm(centres - feats, axis=1)]
                lf = base_layers + 0.3 * rng.normal(size=(2 * layers, width))
                photos.append({"split": split, "kind": "bean", "label": label, "features": feats.tolist(),
                               "logits": logits, "layerFeatures": lf.reshape(-1).tolist()})
    records = str(tmp_path / "records.json")
    with open(records, "w", encoding="utf-8") as f:
        json.dump({"labels": ["angular_leaf_spot", "bean_rust", "healthy"], "photos": photos}, f)

    rows = [1, 2 * layers - 1]
    report = fit_domain_from_records(records, folder, layer_rows=rows, val_refusal=0.04)
    with open(os.path.join(folder, "head.json"), encoding="utf-8") as f:
        head = json.load(f)
    validate_domain_fields(head)
    stats = decode(head["layer_statistics"], width)
    assert [r["row"] for r in stats["rows"]] == rows
    assert all(r["count"] == 180 for r in stats["rows"])   # the train photos only
    assert report["layers"]["val_refused"] <= 0.04 + 1e-9
    val = np.asarray([p["layerFeatures"] for p in photos if p["split"] == "val"]).reshape(-1, 2 * layers, width)
    assert np.isclose((layer_scores(stats, val) > stats["threshold"]).mean(), report["layers"]["val_refused"])
    assert 0 < head["confidence"]["min_probability"] <= 1
    # The teach margins (each class left out in turn) go into both rules and into the fit report.
    assert stats["teach_margin"] == pytest.approx(report["layers"]["teach_margin"]["margin"], rel=1e-6)
    assert head["open_set"]["teach_margin"] >= 1
    from model.export import write_fit_report
    write_fit_report(str(tmp_path / "fit.json"), report)
    with open(tmp_path / "fit.json", encoding="utf-8") as f:
        fit = json.load(f)
    assert set(fit["teach_margin"]) == {"open_set", "layer_statistics"}
    assert [e["label"] for e in fit["teach_margin"]["layer_statistics"]["left_out"]] == ["angular_leaf_spot", "bean_rust", "healthy"]
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        entry = next(e for e in json.load(f)["files"] if e["path"] == "head.json")
    assert entry["sha256"] == sha256_file(os.path.join(folder, "head.json"))
    # Records without layer_features cannot give layer rows: a one-line error, not a half-written head.
    for p in photos:
        p.pop("layerFeatures")
    with open(records, "w", encoding="utf-8") as f:
        json.dump({"labels": ["angular_leaf_spot", "bean_rust", "healthy"], "photos": photos}, f)
    from model.export import ExportError
    written = sha256_file(os.path.join(folder, "head.json"))
    with pytest.raises(ExportError, match="layerFeatures"):
        fit_domain_from_records(records, folder, layer_rows=rows)
    assert sha256_file(os.path.join(folder, "head.json")) == written
