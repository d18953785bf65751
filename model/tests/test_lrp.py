"""LRP rules (model/lrp.py) against the slow direct reference (model/lrp_reference.py).

Layer tests use random float64 tensors with a fixed seed; comparisons are to 1e-9 relative to the
largest reference entry (both sides are float64, the difference is summation order only).
Conservation tolerances are stated next to each check.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from model import lrp, lrp_reference as ref  # noqa: E402

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


def test_matmul_rule_matches_reference(gen):
    a, b, relevance = _randn(gen, 4, 3), _randn(gen, 3, 5), _randn(gen, 4, 5)
    expected_a, expected_b = ref.matmul_relevance(a.numpy(), b.numpy(), relevance.numpy())
    got_a, got_b = lrp.matmul_relevance(a, b, relevance)
    _close(got_a, expected_a)
    _close(got_b, expected_b)


def test_matmul_rule_batched_heads(gen):
    a, b, relevance = _randn(gen, 1, 2, 4, 3), _randn(gen, 1, 2, 3, 5), _randn(gen, 1, 2, 4, 5)
    got_a, got_b = lrp.matmul_relevance(a, b, relevance)
    for head in range(2):
        expected_a, expected_b = ref.matmul_relevance(a[0, head].numpy(), b[0, head].numpy(), relevance[0, head].numpy())
        _close(got_a[0, head], expected_a)
        _close(got_b[0, head], expected_b)


def test_matmul_rule_conserves_per_operand(gen):
    # LRP-0 gives each operand Σ R (all of it) up to the ε in the denominators: checked to 1e-6
    # relative in float64 with positive operands (no near-zero products).
    a, b = torch.rand(1, 2, 6, 6, generator=gen, dtype=torch.float64), _randn(gen, 1, 2, 6, 4).abs()
    relevance = torch.rand(1, 2, 6, 4, generator=gen, dtype=torch.float64)
    got_a, got_b = lrp.matmul_relevance(a, b, relevance)
    total = relevance.sum().item()
    assert got_a.sum().item() == pytest.approx(total, rel=1e-6)
    assert got_b.sum().item() == pytest.approx(total, rel=1e-6)


def test_residual_rule_matches_reference(gen):
    skip, branch, relevance = _randn(gen, 1, 5, 4), _randn(gen, 1, 5, 4), _randn(gen, 1, 5, 4)
    expected_skip, expected_branch = ref.residual_relevance(skip[0].numpy(), branch[0].numpy(), relevance[0].numpy())
    got_skip, got_branch = lrp.residual_relevance(skip, branch, relevance)
    _close(got_skip[0], expected_skip)
    _close(got_branch[0], expected_branch)


def test_residual_rule_conserves_exactly(gen):
    # The re-normalisation makes Σ R_skip + Σ R_branch = Σ R (1e-5 relative in float32) and each
    # part's sum equals its |Σ| share.
    skip, branch = _randn(gen, 1, 7, 6).float(), _randn(gen, 1, 7, 6).float()
    relevance = torch.rand(1, 7, 6, generator=gen).float()
    got_skip, got_branch = lrp.residual_relevance(skip, branch, relevance)
    total = relevance.sum().item()
    assert got_skip.sum().item() + got_branch.sum().item() == pytest.approx(total, rel=1e-5)
    raw_skip = (skip * relevance / (skip + branch)).sum().abs().item()
    raw_branch = (branch * relevance / (skip + branch)).sum().abs().item()
    assert got_skip.sum().item() == pytest.approx(total * raw_skip / (raw_skip + raw_branch), rel=1e-3)


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


def test_explained_weights():
    logits = torch.tensor([[0.1, 2.0, -1.0]])
    torch.testing.assert_close(lrp.explained_weights(logits, torch.zeros(1, 3)), torch.tensor([[0.0, 1.0, 0.0]]))
    given = torch.tensor([[0.5, 0.0, -0.5]])
    torch.testing.assert_close(lrp.explained_weights(logits, given), given)
    np.testing.assert_allclose(ref.explained_weights(logits[0].numpy(), np.zeros(3)), [0.0, 1.0, 0.0])


# ---- whole model ------------------------------------------------------------------------------

from model.deit import DeiT, normalize, preset  # noqa: E402

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


def _run(model: DeiT, target: torch.Tensor, seed: int = 1, to_input: bool = False) -> tuple[dict, torch.Tensor]:
    image = normalize(_fixture_pixels(model.config.image_size, seed))
    with torch.no_grad():
        _, cache = model.forward_with_cache(image)
        weight, bias = model.head_matrix()
        return lrp.propagate(model, cache, weight, bias, target, to_input=to_input), image


@pytest.mark.parametrize("name,target", [
    ("micro", [0.0, 0.0, 0.0]),
    ("micro-distilled", [0.3, -1.0, 0.7]),
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
    # Every rule conserves Σ R up to ε and entries with a zero denominator, so the relevance at
    # block 0's input (and on to the image) sums to Σ_c t_c = 1. Tolerance 1e-3 absolute: the
    # Q·Kᵀ and A·V products have near-zero outputs where the signed ε (1e-6) is not negligible.
    model = _fixture_model(name, seed=5)
    result, _ = _run(model, torch.zeros(1, 3, dtype=torch.float64), to_input=True)
    assert result["weights"].sum().item() == pytest.approx(1.0)
    assert result["tokens"].sum().item() == pytest.approx(1.0, abs=1e-3)
    # tokens = content + pos_embed (re-normalised split) and the patch embedding (α1β0, no bias):
    # the patches lose the prefix tokens' share, the image keeps what the patches had.
    patches = result["patches"].sum().item()
    assert result["input"].sum().item() == pytest.approx(patches, abs=1e-3)
    assert result["input"].shape == (1, 3, model.config.image_size, model.config.image_size)
