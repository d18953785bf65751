"""The explicit backward of model/graph.py equals torch.autograd (relative error ≤ 1e-5, float64)."""
from __future__ import annotations

import pytest
import torch

from model.deit import DeiT, normalize, preset
from model.graph import ExportGraph, attention_grads, explained_weights, gelu_derivative, layer_norm_backward

TOLERANCE = 1e-5


def random_model(name: str) -> DeiT:
    """Random weights with every parameter perturbed, so LayerNorm affine terms and biases matter too."""
    model = DeiT(preset(name)).double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    return ((got - want).abs().max() / want.abs().max()).item()


def check(name: str) -> None:
    """One forward (with autograd) serves both targets: a given weighting and all zeros (top class)."""
    model = random_model(name)
    cfg = model.config
    pixels = torch.rand(1, 3, cfg.image_size, cfg.image_size, dtype=torch.float64)
    head_weight, head_bias = (t.detach().clone() for t in model.head_matrix())
    feats, cache = model.forward_with_cache(normalize(pixels))
    logits = feats @ head_weight.t() + head_bias
    probs = [c["attn"] for c in cache["blocks"]]
    given = torch.tensor([[0.25, -1.0, 2.0]], dtype=torch.float64)
    zeros = torch.zeros(1, cfg.num_classes, dtype=torch.float64)
    for target in (given, zeros):
        weights = explained_weights(logits.detach(), target)
        if target is zeros:
            assert weights.sum() == 1 and weights[0, logits.argmax()] == 1
        want = torch.stack(torch.autograd.grad((logits * weights).sum(), probs, retain_graph=True))
        with torch.no_grad():
            got = torch.stack(attention_grads(model, cache, weights @ head_weight))
        assert got.shape == (cfg.depth, 1, cfg.heads, cfg.tokens, cfg.tokens)
        assert want.abs().max() > 0
        # Every block separately: the deepest blocks' gradients are the smallest.
        for layer in range(cfg.depth):
            assert relative_error(got[layer], want[layer]) <= TOLERANCE, f"block {layer}"


@pytest.mark.parametrize("name", ["micro", "micro-distilled", "tiny", "tiny-distilled"])
def test_explicit_grads_match_autograd(name: str) -> None:
    check(name)


@pytest.mark.parametrize("name", ["micro", "micro-distilled"])
def test_export_graph_outputs_agree_with_the_model(name: str) -> None:
    """ExportGraph (what gets traced) gives the training forward's logits and the same gradients."""
    model = random_model(name)
    cfg = model.config
    pixels = torch.rand(1, 3, cfg.image_size, cfg.image_size, dtype=torch.float64)
    head_weight, head_bias = (t.detach().clone() for t in model.head_matrix())
    zeros = torch.zeros(1, cfg.num_classes, dtype=torch.float64)
    with torch.no_grad():
        logits, feats, attentions, grads = ExportGraph(model, with_extras=False)(pixels, head_weight, head_bias, zeros)
        forward_only = ExportGraph(model, with_grads=False)(pixels, head_weight, head_bias, zeros)
        torch.testing.assert_close(logits, model(normalize(pixels)), rtol=1e-10, atol=1e-10)
        _, cache = model.forward_with_cache(normalize(pixels))
        weights = explained_weights(logits, zeros)
        torch.testing.assert_close(grads, torch.stack(attention_grads(model, cache, weights @ head_weight)))
    for a, b in zip(forward_only, (logits, feats, attentions)):
        torch.testing.assert_close(a, b)
    assert attentions.shape == (cfg.depth, 1, cfg.heads, cfg.tokens, cfg.tokens)


def test_explained_weights_picks_top_class_only_for_all_zero_targets() -> None:
    logits = torch.tensor([[0.1, 3.0, -2.0], [5.0, 1.0, 0.0], [1.0, 4.0, 4.0], [-1.0, -1.0, -3.0]])
    target = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    got = explained_weights(logits, target)
    # Ties go to the first maximum, as argmax does.
    want = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.5, 0.5], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    torch.testing.assert_close(got, want)
    assert torch.equal(got[[0, 2, 3]].argmax(dim=1), logits[[0, 2, 3]].argmax(dim=1))


def test_layer_norm_and_gelu_backward_match_autograd() -> None:
    x = torch.randn(2, 5, 7, dtype=torch.float64, requires_grad=True)
    gamma = torch.randn(7, dtype=torch.float64)
    beta = torch.randn(7, dtype=torch.float64)
    upstream = torch.randn(2, 5, 7, dtype=torch.float64)
    y = torch.nn.functional.layer_norm(x, (7,), gamma, beta, eps=1e-6)
    (y * upstream).sum().backward()
    mu = x.detach().mean(-1, keepdim=True)
    rstd = torch.rsqrt(((x.detach() - mu) ** 2).mean(-1, keepdim=True) + 1e-6)
    got = layer_norm_backward(upstream, gamma, (x.detach() - mu) * rstd, rstd)
    assert x.grad is not None
    assert relative_error(got, x.grad) <= 1e-10
    h = torch.linspace(-6, 6, 101, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.gelu(h).sum().backward()
    assert h.grad is not None
    assert relative_error(gelu_derivative(h.detach()), h.grad) <= 1e-10
