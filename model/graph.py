"""The export-time module: DeiT backbone with the head as inputs and an EXPLICIT backward pass.

Inputs and outputs are those of docs/model-contract.md:

    pixels [1,3,S,S] in [0,1], head_weight [C,F], head_bias [C], target [1,C]
    → logits [1,C], features [1,F], attentions [L,1,H,N,N], attention_grads [L,1,H,N,N] (full and lrp graphs),
      then the extra output attention_relevance (model/lrp.py; lrp graph only).

export.py traces the largest graph (with the extras) and prunes the others from it.

``attention_grads`` = ∂s/∂A_l with s = Σ_c w_c·logits_c, w = target, or the one-hot of argmax(logits) when
target is all zeros. ONNX has no autograd, so the backward pass is written out in ordinary ops
(head → final LayerNorm → blocks in reverse: residuals, MLP with exact-GELU derivative, LayerNorm backward,
output projection, A·V, softmax, q·kᵀ, qkv). Each op used exists in onnxruntime-web's WebGPU and WASM EPs.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from model.deit import DeiT, normalize
from model.lrp import attention_relevance
from model.target import explained_weights

FORWARD_OUTPUTS = ["logits", "features", "attentions"]
FULL_OUTPUTS = FORWARD_OUTPUTS + ["attention_grads"]
LRP_OUTPUTS = FULL_OUTPUTS + ["attention_relevance"]
INPUTS = ["pixels", "head_weight", "head_bias", "target"]


def layer_norm_backward(d_out: Tensor, gamma: Tensor, xhat: Tensor, rstd: Tensor) -> Tensor:
    """∂s/∂x for y = x̂·γ + β, x̂ = (x-μ)·rstd over the last axis, given ∂s/∂y."""
    d_xhat = d_out * gamma
    mean_d = d_xhat.mean(dim=-1, keepdim=True)
    mean_dx = (d_xhat * xhat).mean(dim=-1, keepdim=True)
    return rstd * (d_xhat - mean_d - xhat * mean_dx)


_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def gelu_derivative(h: Tensor) -> Tensor:
    """d/dh of the exact GELU h·Φ(h): Φ(h) + h·φ(h)."""
    cdf = 0.5 * (1.0 + torch.erf(h * _INV_SQRT2))
    pdf = torch.exp(-0.5 * h * h) * _INV_SQRT_2PI
    return cdf + h * pdf


def attention_grads(model: DeiT, cache: Dict[str, Any], d_features: Tensor) -> List[Tensor]:
    """∂s/∂A_l for every block (block 0 first), each [B,H,N,N], given ∂s/∂features [B,F].

    ``cache`` comes from ``DeiT.forward_with_cache``. Block 0 stops at ∂s/∂A_0: nothing below it is needed.
    """
    cfg = model.config
    blocks = cache["blocks"]
    b, n, d = cache["final_in"].shape
    h, hd, p = cfg.heads, cfg.head_dim, cfg.prefix_tokens
    # features = final_out[:, :P] flattened, so only the prefix rows of ∂s/∂final_out are non-zero. Placing
    # them with a constant [N,P] selection matrix keeps the graph free of Pad/ConstantOfShape shape maths.
    # (Built in numpy so tracing records a constant, not EyeLike/ConstantOfShape.)
    place_prefix = torch.from_numpy(np.eye(n, p)).to(dtype=d_features.dtype, device=d_features.device)
    d_final = torch.matmul(place_prefix, d_features.reshape(b, p, d))
    dx = layer_norm_backward(d_final, model.norm.weight, cache["final_xhat"], cache["final_rstd"])
    grads: List[Optional[Tensor]] = [None] * cfg.depth
    for index in range(cfg.depth - 1, -1, -1):
        c, blk = blocks[index], model.blocks[index]
        # MLP branch: x_out = x_mid + fc2(gelu(fc1(norm2(x_mid)))).
        d_gelu = torch.matmul(dx, blk.mlp.fc2.weight)
        d_fc1 = d_gelu * gelu_derivative(c["fc1_out"])
        d_ln2 = torch.matmul(d_fc1, blk.mlp.fc1.weight)
        d_mid = dx + layer_norm_backward(d_ln2, blk.norm2.weight, c["ln2_xhat"], c["ln2_rstd"])
        # Attention branch: x_mid = x_in + proj(merge_heads(A·V)).
        d_ctx = torch.matmul(d_mid, blk.attn.proj.weight).reshape(b, n, h, hd).transpose(1, 2)  # [B,H,N,hd]
        probs, q, k, v, scale = c["attn"], c["q"], c["k"], c["v"], c["scale"]
        d_probs = torch.matmul(d_ctx, v.transpose(-2, -1))                                          # [B,H,N,N]
        grads[index] = d_probs
        if index == 0:
            break
        d_v = torch.matmul(probs.transpose(-2, -1), d_ctx)
        # Softmax backward, row-wise: dS = A ⊙ (dA − Σ_j dA·A).
        d_scores = probs * (d_probs - (d_probs * probs).sum(dim=-1, keepdim=True))
        d_q = torch.matmul(d_scores, k) * scale
        d_k = torch.matmul(d_scores.transpose(-2, -1), q) * scale
        # qkv rows are ordered [q | k | v], each head-major, so merge heads and concatenate.
        d_qkv = torch.cat([t.transpose(1, 2).reshape(b, n, d) for t in (d_q, d_k, d_v)], dim=-1)
        d_ln1 = torch.matmul(d_qkv, blk.attn.qkv.weight)
        dx = d_mid + layer_norm_backward(d_ln1, blk.norm1.weight, c["ln1_xhat"], c["ln1_rstd"])
    return [g for g in grads if g is not None]


class ExportGraph(nn.Module):
    """What export.py traces. ``with_grads=False`` gives the forward-only graph (export.py prunes the full
    graph instead, so both share initializers; this mode is for PyTorch-side references and tests).
    ``with_extras`` enables the optional outputs of the hook (only with gradients)."""

    def __init__(self, model: DeiT, with_grads: bool = True, with_extras: bool = True) -> None:
        super().__init__()
        self.model = model.eval()
        self.with_grads = with_grads
        self.with_extras = with_extras and with_grads

    def output_names(self) -> List[str]:
        if not self.with_grads:
            return list(FORWARD_OUTPUTS)
        return FULL_OUTPUTS + list(self.extra_output_names())

    def extra_output_names(self) -> List[str]:
        return ["attention_relevance"] if self.with_extras else []

    def forward(self, pixels: Tensor, head_weight: Tensor, head_bias: Tensor,
                target: Tensor) -> Tuple[Tensor, ...]:
        feats, cache = self.model.forward_with_cache(normalize(pixels))
        logits = torch.matmul(feats, head_weight.t()) + head_bias
        attentions = torch.stack([c["attn"] for c in cache["blocks"]])          # [L,B,H,N,N]
        if not self.with_grads:
            return logits, feats, attentions
        weights = explained_weights(logits, target)                               # [B,C]
        d_features = torch.matmul(weights, head_weight)                            # ∂s/∂features [B,F]
        grads = torch.stack(attention_grads(self.model, cache, d_features))       # [L,B,H,N,N]
        outputs: List[Tensor] = [logits, feats, attentions, grads]

        # Optional outputs, in the order of extra_output_names(): the lrp graph's attention_relevance (model/lrp.py).
        if self.with_extras:
            outputs.append(attention_relevance(self.model, cache, head_weight=head_weight, head_bias=head_bias, target=target))
        return tuple(outputs)


def layer_features_reference(model: DeiT, pixels: Tensor) -> Tensor:
    """What the graphs' optional `layer_features` output holds, computed directly in PyTorch: [1, 2L, D], row l
    block l's output at token 0 (CLS), row L + l its mean over the patch tokens (docs/model-contract.md)."""
    p = model.config.prefix_tokens
    with torch.no_grad():
        _, cache = model.forward_with_cache(normalize(pixels))
    outs = [c["x_out"] for c in cache["blocks"]]
    return torch.stack([x[:, 0] for x in outs] + [x[:, p:].mean(dim=1) for x in outs], dim=1)


def reference_outputs(model: DeiT, pixels: Tensor, target: Tensor, head_weight: Optional[Tensor] = None,
                      head_bias: Optional[Tensor] = None, with_extras: bool = True) -> Dict[str, Tensor]:
    """PyTorch's values of every full-graph output, by name (for fixtures and tests)."""
    if head_weight is None or head_bias is None:
        head_weight, head_bias = model.head_matrix()
    graph = ExportGraph(model, with_grads=True, with_extras=with_extras)
    with torch.no_grad():
        values = graph(pixels, head_weight, head_bias, target)
    return {**dict(zip(graph.output_names(), values)), "layer_features": layer_features_reference(model, pixels)}
