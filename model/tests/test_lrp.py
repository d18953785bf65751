"""LRP rules (model/lrp.py) against the slow direct reference (model/lrp_reference.py).

Layer tests use random float64 tensors with a fixed seed; comparisons are to 1e-9 relative to the
largest reference entry (both sides are float64, the difference is summation order only).
Conservation tolerances are stated next to each check.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from model import lrp, lrp_reference as ref
from model.deit import DeiT, normalize, preset

LAYER_TOL = 1e-9


def _close(actual: torch.Tensor, expected: np.ndarray, tol: float = LAYER_TOL) -> None:
    actual_np = actual.detach().cpu().numpy().astype(np.float64)
    assert actual_np.shape == expected.shape
    scale = max(np.abs(expected).max(), 1e-30)
    worst = np.abs(actual_np - expected).max() / scale
    assert worst <= tol, f"max relative difference {worst:.3e} > {tol:.1e}"


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(6)


def _randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def test_linear_rule_matches_reference(gen):
    x, weight, relevance = _randn(gen, 5, 7), _randn(gen, 4, 7), _randn(gen, 5, 4)
    expected = ref.linear_relevance(x.numpy(), weight.numpy(), relevance.numpy())
    _close(lrp.linear_relevance(x, weight, relevance), expected)


def test_linear_rule_batched_leading_dims(gen):
    # [1, T, in] as the model uses it: same as the 2-D reference per example.
    x, weight, relevance = _randn(gen, 1, 6, 5), _randn(gen, 3, 5), _randn(gen, 1, 6, 3)
    expected = ref.linear_relevance(x[0].numpy(), weight.numpy(), relevance[0].numpy())
    _close(lrp.linear_relevance(x, weight, relevance)[0], expected)


def test_linear_rule_conserves_relevance(gen):
    # α1β0 without bias: Σ R_in = Σ R_out within 1e-4 relative (float32), wherever some
    # contribution is positive (random Gaussians: always).
    x, weight = _randn(gen, 9, 16).float(), _randn(gen, 12, 16).float()
    relevance = torch.rand(9, 12, generator=gen).float()
    out = lrp.linear_relevance(x, weight, relevance)
    assert abs(out.sum().item() - relevance.sum().item()) <= 1e-4 * abs(relevance.sum().item())


def test_linear_rule_ignores_negative_contributions(gen):
    # One input whose every contribution is negative gets no relevance when R ≥ 0.
    x = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    weight = torch.tensor([[2.0, 3.0], [1.0, 4.0]], dtype=torch.float64)
    out = lrp.linear_relevance(x, weight, torch.tensor([[1.0, 1.0]], dtype=torch.float64))
    assert out[0, 1].item() == 0.0
    assert out[0, 0].item() == pytest.approx(2.0, rel=1e-5)


def _ref_eps(z: torch.Tensor, delta: float = lrp.RELATIVE_EPSILON) -> float:
    return delta * z.abs().mean().item() + lrp.EPSILON


def test_matmul_rule_matches_reference(gen):
    a, b, relevance = _randn(gen, 1, 4, 3), _randn(gen, 1, 3, 5), _randn(gen, 1, 4, 5)
    eps = _ref_eps(a @ b)
    expected_a, expected_b = ref.matmul_relevance(a[0].numpy(), b[0].numpy(), relevance[0].numpy(), eps)
    got_a, got_b = lrp.matmul_relevance(a, b, relevance)
    _close(got_a[0], expected_a)
    _close(got_b[0], expected_b)


def test_matmul_rule_batched_heads(gen):
    # ε is one number per example: δ · mean |Z| over all heads.
    a, b, relevance = _randn(gen, 1, 2, 4, 3), _randn(gen, 1, 2, 3, 5), _randn(gen, 1, 2, 4, 5)
    eps = _ref_eps(a @ b)
    got_a, got_b = lrp.matmul_relevance(a, b, relevance)
    for head in range(2):
        expected_a, expected_b = ref.matmul_relevance(a[0, head].numpy(), b[0, head].numpy(),
                                                      relevance[0, head].numpy(), eps)
        _close(got_a[0, head], expected_a)
        _close(got_b[0, head], expected_b)


def test_matmul_rule_conserves_per_operand(gen):
    # LRP-0 gives each operand Σ R·Z/(Z + ε); with δ = 0 (ε = 1e-6) that is Σ R to 1e-5 relative in
    # float64 (positive operands, Z ≥ 0.1: no near-zero products). With the default δ it is a little
    # less, never more.
    a, b = torch.rand(1, 2, 6, 6, generator=gen, dtype=torch.float64), _randn(gen, 1, 2, 6, 4).abs()
    relevance = torch.rand(1, 2, 6, 4, generator=gen, dtype=torch.float64)
    total = relevance.sum().item()
    got_a, got_b = lrp.matmul_relevance(a, b, relevance, delta=0.0)
    assert got_a.sum().item() == pytest.approx(total, rel=1e-5)
    assert got_b.sum().item() == pytest.approx(total, rel=1e-5)
    damped_a, _ = lrp.matmul_relevance(a, b, relevance)
    assert total * (1 - lrp.RELATIVE_EPSILON * 10) < damped_a.sum().item() < got_a.sum().item()


def test_residual_rule_matches_reference(gen):
    skip, branch, relevance = _randn(gen, 1, 5, 4), _randn(gen, 1, 5, 4), _randn(gen, 1, 5, 4)
    expected_skip, expected_branch = ref.residual_relevance(skip[0].numpy(), branch[0].numpy(), relevance[0].numpy())
    got_skip, got_branch = lrp.residual_relevance(skip, branch, relevance)
    _close(got_skip[0], expected_skip)
    assert np.abs(expected_skip).max() > 0
    _close(got_branch[0], expected_branch)


def test_residual_rule_conserves_exactly(gen):
    # The re-normalisation makes Σ R_skip + Σ R_branch = Σ R (1e-5 relative in float32) and each
    # part's sum equals its |Σ| share.
    skip, branch = _randn(gen, 1, 7, 6).float(), _randn(gen, 1, 7, 6).float()
    relevance = torch.rand(1, 7, 6, generator=gen).float()
    got_skip, got_branch = lrp.residual_relevance(skip, branch, relevance)
    total = relevance.sum().item()
    assert got_skip.sum().item() + got_branch.sum().item() == pytest.approx(total, rel=1e-5)
    eps = _ref_eps(skip + branch)
    z = torch.where(skip + branch >= 0, skip + branch + eps, skip + branch - eps)
    raw_skip = (skip * relevance / z).sum().abs().item()
    raw_branch = (branch * relevance / z).sum().abs().item()
    assert got_skip.sum().item() == pytest.approx(total * raw_skip / (raw_skip + raw_branch), rel=1e-4)


def test_residual_rule_per_example_sums(gen):
    # Batch entries are normalised independently: example 1 does not change example 0's result.
    skip, branch, relevance = _randn(gen, 2, 3, 4), _randn(gen, 2, 3, 4), _randn(gen, 2, 3, 4)
    alone_skip, _ = lrp.residual_relevance(skip[:1], branch[:1], relevance[:1])
    both_skip, _ = lrp.residual_relevance(skip, branch, relevance)
    torch.testing.assert_close(both_skip[:1], alone_skip)


def test_stabilise_keeps_sign_and_moves_zero_up():
    z = torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64)
    torch.testing.assert_close(lrp.stabilise(z, 0.5), torch.tensor([-2.5, 0.5, 3.5], dtype=torch.float64))
    assert [ref.stabilise(v, 0.5) for v in (-2.0, 0.0, 3.0)] == [-2.5, 0.5, 3.5]


def test_relative_epsilon_is_per_example():
    z = torch.tensor([[[1.0, -3.0]], [[0.0, 0.0]]], dtype=torch.float64)
    eps = lrp.relative_epsilon(z, 0.1)
    assert eps.shape == (2, 1, 1)
    assert eps[0].item() == pytest.approx(0.2 + lrp.EPSILON)
    assert eps[1].item() == pytest.approx(lrp.EPSILON)


def test_explained_weights_reference_agrees_with_graph():
    # lrp.py uses graph.py's definition (the same s as attention_grads); the reference re-states it.
    for logits, target in [([0.1, 2.0, -1.0], [0.0, 0.0, 0.0]), ([1.0, 1.0, 0.0], [0.0, 0.0, 0.0]),
                           ([0.1, 2.0, -1.0], [0.5, 0.0, -0.5])]:
        got = lrp.explained_weights(torch.tensor([logits]), torch.tensor([target]))
        np.testing.assert_allclose(got[0].numpy(), ref.explained_weights(np.array(logits), np.array(target)))


# ---- whole model ------------------------------------------------------------------------------

WHOLE_MODEL_TOL = 1e-8  # float64 on both sides


def _fixture_model(name: str, seed: int) -> DeiT:
    """Test fixture: a preset DeiT with every parameter re-drawn (biases and LayerNorm affine
    included, larger than DeiT's init) so no rule sees only zeros or ones."""
    torch.manual_seed(seed)
    model = DeiT(preset(name)).double().eval()
    with torch.no_grad():
        for pname, param in model.named_parameters():
            if pname.endswith("norm1.weight") or pname.endswith("norm2.weight") or pname == "norm.weight":
                param.copy_(1.0 + 0.2 * torch.randn_like(param))
            else:
                param.copy_(0.1 * torch.randn_like(param))
    return model


def _fixture_pixels(size: int, seed: int) -> torch.Tensor:
    return torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _run(model: DeiT, target: torch.Tensor, seed: int = 1, to_input: bool = False,
         delta: float = lrp.RELATIVE_EPSILON) -> tuple[dict, torch.Tensor]:
    image = normalize(_fixture_pixels(model.config.image_size, seed))
    with torch.no_grad():
        _, cache = model.forward_with_cache(image)
        weight, bias = model.head_matrix()
        return lrp.propagate(model, cache, weight, bias, target, delta=delta, to_input=to_input), image


@pytest.mark.parametrize("name,target", [
    ("micro", [0.0, 0.0, 0.0]),
    ("micro-distilled", [0.3, -0.2, 1.0]),
])
def test_whole_model_matches_reference(name, target):
    model = _fixture_model(name, seed=3)
    target_t = torch.tensor([target], dtype=torch.float64)
    result, image = _run(model, target_t, to_input=True)
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    weight, bias = (t.detach().numpy() for t in model.head_matrix())
    expected = ref.model_relevance(state, model.config, image[0].numpy(), weight, bias, np.array(target))
    cfg = model.config
    assert result["attention"].shape == (cfg.depth, 1, cfg.heads, cfg.tokens, cfg.tokens)
    _close(result["logits"][0], expected["logits"], WHOLE_MODEL_TOL)
    for layer in range(cfg.depth):
        _close(result["attention"][layer, 0], expected["attention"][layer], WHOLE_MODEL_TOL)
    _close(result["tokens"][0], expected["tokens"], WHOLE_MODEL_TOL)
    # The relevance is not trivially zero anywhere it should not be.
    assert all(np.abs(expected["attention"][layer]).max() > 0 for layer in range(cfg.depth))


def test_attention_relevance_is_propagate_output():
    model = _fixture_model("micro-distilled", seed=4)
    target = torch.zeros(1, 3, dtype=torch.float64)
    result, image = _run(model, target)
    with torch.no_grad():
        _, cache = model.forward_with_cache(image)
        out = lrp.attention_relevance(model, cache, *model.head_matrix(), target)
    torch.testing.assert_close(out, result["attention"])


@pytest.mark.parametrize("name", ["micro", "micro-distilled"])
def test_whole_model_conservation(name):
    # With δ = 0 (ε = 1e-6 absolute everywhere) every rule conserves Σ R up to ε, so the relevance at
    # block 0's input sums to Σ_c t_c = 1 within 1e-4 (measured 2e-5); the patch embedding (α1β0, no
    # bias) passes the patches' share on to the image within 1e-6. The default δ = 1e-4 absorbs the
    # relevance of near-zero products: a little is lost (measured 2.6e-4), never gained; checked
    # 0 < loss < 2e-3.
    model = _fixture_model(name, seed=5)
    exact, _ = _run(model, torch.zeros(1, 3, dtype=torch.float64), to_input=True, delta=0.0)
    assert exact["weights"].sum().item() == pytest.approx(1.0)
    assert exact["tokens"].sum().item() == pytest.approx(1.0, abs=1e-4)
    assert exact["input"].sum().item() == pytest.approx(exact["patches"].sum().item(), abs=1e-6)
    assert exact["input"].shape == (1, 3, model.config.image_size, model.config.image_size)
    damped, _ = _run(model, torch.zeros(1, 3, dtype=torch.float64), to_input=True)
    assert 1.0 - 2e-3 < damped["tokens"].sum().item() < 1.0


def test_zero_sum_target_has_no_relevance():
    # The residual re-normalisation rescales every split to Σ R = Σ_c t_c: weights that cancel
    # (e.g. one class against another) leave (numerically) nothing to explain.
    model = _fixture_model("micro-distilled", seed=5)
    top, _ = _run(model, torch.zeros(1, 3, dtype=torch.float64))
    contrast, _ = _run(model, torch.tensor([[1.0, -1.0, 0.0]], dtype=torch.float64))
    assert contrast["attention"].abs().max().item() < 1e-9 * top["attention"].abs().max().item()


# ---- ONNX fixture (read by test/model/lrp-onnx.test.ts) -----------------------------------------

FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "lrp")
FIXTURE_TARGETS = {"top": [0.0, 0.0, 0.0], "weighted": [0.3, -0.2, 1.0]}


def _fixture_case() -> tuple[DeiT, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ONNX fixture's float32 model, pixels and head (the micro-distilled fixture model, seed 6)."""
    model = _fixture_model("micro-distilled", seed=6).float()
    pixels = _fixture_pixels(model.config.image_size, seed=2).float()
    weight, bias = (t.detach().clone() for t in model.head_matrix())
    return model, pixels, weight, bias


def _fixture_expected(model, pixels, weight, bias, target) -> dict:
    from model.graph import ExportGraph

    graph = ExportGraph(model)
    with torch.no_grad():
        outputs = graph(pixels, weight, bias, torch.tensor([target]))
    return dict(zip(graph.output_names(), outputs))


def write_onnx_fixture(folder: str = FIXTURE_DIR) -> None:
    """Exports the fixture model's full graph with the pipeline's own tracer (weights inline) and
    PyTorch's float32 outputs for each target as little-endian float32 .bin files, described by case.json."""
    import onnx

    from model.export import trace_full_graph

    os.makedirs(folder, exist_ok=True)
    model, pixels, weight, bias = _fixture_case()
    proto, outputs = trace_full_graph(model, with_lrp=True)
    assert outputs[-1] == "attention_relevance", outputs
    onnx.save(proto, os.path.join(folder, "model.onnx"))
    files = {}
    for name, tensor in (("pixels", pixels), ("head_weight", weight), ("head_bias", bias)):
        tensor.numpy().astype("<f4").tofile(os.path.join(folder, f"{name}.bin"))
        files[name] = {"file": f"{name}.bin", "shape": list(tensor.shape)}
    cases = {}
    for label, target in FIXTURE_TARGETS.items():
        outputs = _fixture_expected(model, pixels, weight, bias, target)
        cases[label] = {"target": target, "outputs": {}}
        for name in ("logits", "attention_grads", "attention_relevance"):
            path = f"{label}.{name}.bin"
            outputs[name].numpy().astype("<f4").tofile(os.path.join(folder, path))
            cases[label]["outputs"][name] = {"file": path, "shape": list(outputs[name].shape)}
    meta = {"about": "Test fixture (untrained, re-drawn weights) written by model/tests/test_lrp.py "
                     "write_onnx_fixture; PyTorch float32 outputs of the exported graph.",
            "config": model.config.to_dict(), "relative_epsilon": lrp.RELATIVE_EPSILON,
            "inputs": files, "cases": cases}
    with open(os.path.join(folder, "case.json"), "w") as handle:
        json.dump(meta, handle, indent=1)


def test_onnx_fixture_is_current():
    # The committed fixture must be what this code computes now (rerun write_onnx_fixture if not).
    # Tolerance 1e-3 of the largest value: float32 rounding changes in the forward pass (e.g. how
    # LayerNorm is written) move the relevance by ~5e-5 (measured), a change of rule moves it by far more.
    with open(os.path.join(FIXTURE_DIR, "case.json")) as handle:
        meta = json.load(handle)
    assert meta["relative_epsilon"] == lrp.RELATIVE_EPSILON
    model, pixels, weight, bias = _fixture_case()
    stored = np.fromfile(os.path.join(FIXTURE_DIR, "pixels.bin"), dtype="<f4")
    np.testing.assert_array_equal(stored, pixels.numpy().ravel())
    for label, case in meta["cases"].items():
        outputs = _fixture_expected(model, pixels, weight, bias, case["target"])
        spec = case["outputs"]["attention_relevance"]
        stored = np.fromfile(os.path.join(FIXTURE_DIR, spec["file"]), dtype="<f4").reshape(spec["shape"])
        _close(outputs["attention_relevance"], stored.astype(np.float64), 1e-3)


if __name__ == "__main__":
    # PYTHONPATH=. bash scripts/python.sh model/tests/test_lrp.py  → rewrites test/fixtures/lrp/
    write_onnx_fixture()
    print(f"wrote {os.path.normpath(FIXTURE_DIR)}")
