"""model/export.py and model/onnx_tools.py: one shared weights file without duplicate tensors, only ops the
WebGPU EP has, fp16 graphs with float32 boundaries, atomic writes and one-line errors, --head-only.
(Numerical agreement of the graphs with PyTorch is checked by test/model/onnx-fixture.test.ts.)"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Dict, Set

import onnx
import pytest
import torch
from onnx import TensorProto

from model import export as exporter
from model.deit import DeiT, preset, save_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEBGPU_OPS_DOC = os.path.join(ROOT, "node_modules", "onnxruntime-web", "docs", "webgpu-operators.md")
GRAPHS = ["model.onnx", "model.forward.onnx", "model.lrp.onnx", "model.fp16.onnx", "model.forward.fp16.onnx",
          "model.lrp.fp16.onnx"]


def webgpu_ops() -> Set[str]:
    """Op names of onnxruntime-web's WebGPU EP, from the table shipped in the installed package."""
    with open(WEBGPU_OPS_DOC, encoding="utf-8") as f:
        ops = set(re.findall(r"^\| (\w+) \| ai\.onnx", f.read(), re.M))
    assert len(ops) > 50, "unexpected webgpu-operators.md format"
    return ops


def load(folder: str, name: str) -> onnx.ModelProto:
    return onnx.load(os.path.join(folder, name), load_external_data=False)


def external_entries(model: onnx.ModelProto) -> Dict[str, tuple]:
    out = {}
    for t in model.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            info = {e.key: e.value for e in t.external_data}
            out[t.name] = (info["location"], int(info["offset"]), int(info["length"]))
    return out


@pytest.mark.parametrize("graph", GRAPHS)
def test_graphs_use_only_webgpu_ops(exported_micro: str, graph: str) -> None:
    used = {n.op_type for n in load(exported_micro, graph).graph.node}
    assert not used - webgpu_ops(), f"ops the WebGPU EP lacks: {sorted(used - webgpu_ops())}"
    assert not used & {"OneHot", "ScatterND", "Identity", "Constant", "ConstantOfShape", "EyeLike"}


def test_all_graphs_share_one_weights_file(exported_micro: str) -> None:
    for lrp_name, pruned, weights in (("model.lrp.onnx", ("model.onnx", "model.forward.onnx"), "model.weights"),
                                      ("model.lrp.fp16.onnx", ("model.fp16.onnx", "model.forward.fp16.onnx"),
                                       "model.fp16.weights")):
        lrp = external_entries(load(exported_micro, lrp_name))
        assert {loc for loc, _, _ in lrp.values()} == {weights}
        for name in pruned:
            part = external_entries(load(exported_micro, name))
            assert part and set(part) <= set(lrp)
            assert all(part[key] == lrp[key] for key in part)  # same names, offsets, lengths
        size = os.path.getsize(os.path.join(exported_micro, weights))
        assert max(off + length for _, off, length in lrp.values()) == size


def test_full_graph_has_no_lrp_work(exported_micro: str) -> None:
    full = load(exported_micro, "model.onnx")
    lrp = load(exported_micro, "model.lrp.onnx")
    assert [o.name for o in full.graph.output] == ["logits", "features", "attentions", "attention_grads", "layer_features"]
    assert [o.name for o in lrp.graph.output][-2:] == ["attention_relevance", "layer_features"]
    # LRP roughly doubles the backward work again; the full graph must be clearly smaller.
    assert len(full.graph.node) < 0.8 * len(lrp.graph.node)


def test_no_lrp_export_has_no_lrp_graph(tmp_path) -> None:
    torch.manual_seed(0)
    model = DeiT(preset("micro", num_classes=3)).eval()
    out = str(tmp_path / "fixture-nolrp")
    (tmp_path / "fixture-nolrp").mkdir()
    (tmp_path / "fixture-nolrp" / "model.lrp.onnx").write_bytes(b"stale")
    manifest = exporter.export_model(model, out, exporter.BEAN_LABELS, trained=False, fp16=False, with_lrp=False)
    assert "lrp" not in manifest["graphs"] and "attention_relevance" not in manifest["outputs"]
    assert not os.path.exists(os.path.join(out, "model.lrp.onnx"))  # stale file removed


def test_weights_file_holds_each_parameter_once(exported_micro: str) -> None:
    torch.manual_seed(0)
    params = sum(p.numel() for p in DeiT(preset("micro-distilled")).parameters()) * 4
    size = os.path.getsize(os.path.join(exported_micro, "model.weights"))
    # No transposed or duplicated copies (alignment padding and the small constants aside).
    assert size <= params * 1.05
    assert os.path.getsize(os.path.join(exported_micro, "model.fp16.weights")) <= size / 2 * 1.05


def test_fp16_graph_has_fp16_weights_and_float32_boundaries(exported_micro: str) -> None:
    model = load(exported_micro, "model.fp16.onnx")
    floats = [t for t in model.graph.initializer if t.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16)]
    assert floats and all(t.data_type == TensorProto.FLOAT16 for t in floats)
    for vi in list(model.graph.input) + list(model.graph.output):
        assert vi.type.tensor_type.elem_type == TensorProto.FLOAT, vi.name


def test_forward_graph_has_no_gradient_work(exported_micro: str) -> None:
    full = load(exported_micro, "model.onnx")
    forward = load(exported_micro, "model.forward.onnx")
    assert [o.name for o in forward.graph.output] == ["logits", "features", "attentions", "layer_features"]
    assert len(forward.graph.node) < len(full.graph.node) / 2
    assert not {"CumSum", "Where"} & {n.op_type for n in forward.graph.node}  # no target handling


def test_unwritable_folder_is_a_one_line_error(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(exporter.ExportError, match=r"^output folder .* is not writable"):
        exporter.export_model(DeiT(preset("micro-distilled")), str(blocker / "out"), exporter.BEAN_LABELS,
                              trained=False)


def test_failed_export_leaves_previous_files_whole(exported_micro: str, tmp_path, monkeypatch) -> None:
    import shutil

    folder = str(tmp_path / "fixture-keep")
    shutil.copytree(exported_micro, folder)
    before = {name: open(os.path.join(folder, name), "rb").read() for name in os.listdir(folder)}

    def broken(*args, **kwargs):
        raise RuntimeError("simulated crash while tracing")

    monkeypatch.setattr(exporter, "build_graph_files", broken)
    with pytest.raises(RuntimeError):
        exporter.export_model(DeiT(preset("micro-distilled")), folder, exporter.BEAN_LABELS, trained=False)
    after = {name: open(os.path.join(folder, name), "rb").read() for name in os.listdir(folder)}
    assert after == before  # nothing half-written, no temp files left


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, os.path.join(ROOT, "model", "export.py"), *args],
                          capture_output=True, text=True, timeout=300)


def test_cli_errors_are_one_line(tmp_path) -> None:
    missing = run_cli("--checkpoint", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "m"))
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0 and "checkpoint not found" in missing.stderr
    named = run_cli("--random-init", "--config", "micro-distilled", "--out", str(tmp_path / "deit-real-name"))
    assert named.returncode == 1 and "must start with 'fixture-'" in named.stderr
    ck = str(tmp_path / "ck.pt")
    save_checkpoint(ck, DeiT(preset("micro-distilled", num_classes=2)), ["a", "b"])
    manifest = str(tmp_path / "backbone" / "manifest.json")
    os.makedirs(os.path.dirname(manifest))
    with open(manifest, "w") as f:
        json.dump({"features": 96, "image_size": 224, "layers": 3, "embed_dim": 48, "prefix_tokens": 2}, f)
    mismatch = run_cli("--head-only", "--checkpoint", ck, "--backbone-manifest", manifest, "--out",
                       str(tmp_path / "head.json"))
    assert mismatch.returncode == 1 and "architecture mismatch" in mismatch.stderr
    assert mismatch.stderr.strip().count("\n") == 0
    assert not os.path.exists(tmp_path / "head.json")


def test_class_count_mismatch_is_refused() -> None:
    with pytest.raises(exporter.ExportError, match="class-count mismatch"):
        exporter.export_model(DeiT(preset("micro-distilled", num_classes=4)), "/tmp/unused-export",
                              exporter.BEAN_LABELS, trained=False)


def test_head_only_plugs_into_the_same_backbone(exported_micro: str, tmp_path) -> None:
    """A head trained with the backbone frozen (new classes here) gets the backbone's sha256; a checkpoint
    whose backbone changed is refused."""
    torch.manual_seed(0)
    backbone = DeiT(preset("micro-distilled"))  # the same seed and config as the exported fixture
    new = DeiT(preset("micro-distilled", num_classes=2))
    state = {k: v for k, v in backbone.state_dict().items() if not k.startswith(("head.", "head_dist."))}
    new.load_state_dict(state, strict=False)
    ck = str(tmp_path / "head-only.pt")
    save_checkpoint(ck, new, ["leaf", "not_leaf"], {"val_accuracy": 0.9, "per_class": {}})
    out = str(tmp_path / "head.json")
    manifest_path = os.path.join(exported_micro, "manifest.json")
    head = exporter.export_head_only(ck, manifest_path, out)
    with open(manifest_path) as f:
        manifest = json.load(f)
    with open(out) as f:
        assert json.load(f) == head
    assert head["backbone_sha256"] == manifest["backbone_sha256"]
    assert head["labels"] == ["leaf", "not_leaf"] and len(head["weight"]) == 2
    assert len(head["weight"][0]) == manifest["features"]
    weight, bias = new.head_matrix()
    torch.testing.assert_close(torch.tensor(head["weight"]), weight.detach())
    torch.testing.assert_close(torch.tensor(head["bias"]), bias.detach())
    # Change one backbone weight: refused, and the earlier head.json stays as it was.
    with torch.no_grad():
        new.blocks[0].attn.qkv.weight[0, 0] += 1.0
    save_checkpoint(ck, new, ["leaf", "not_leaf"])
    with pytest.raises(exporter.ExportError, match="backbone mismatch"):
        exporter.export_head_only(ck, manifest_path, out)
    with open(out) as f:
        assert json.load(f) == head
