"""Slow, direct reference of the LRP rules in `model/lrp.py` (tests only).

Each rule is written from its definition, one output entry at a time, in float64 NumPy, so that it
shares no formulation with the vectorised version: the linear rule sums max(x_i·w_ji, 0) instead of
splitting signs, the matrix-product rule visits every (i, k, j) triple, and the whole-model pass
recomputes the forward from the weights instead of reading the model's cache.
"""

from __future__ import annotations

import math

import numpy as np

EPSILON = 1e-6  # α1β0 denominators
RELATIVE_EPSILON = 1e-4  # LRP-0 denominators: ε = this · mean |z| over the example (+ EPSILON)


def stabilise(z: float, eps: float = EPSILON) -> float:
    return z + eps if z >= 0 else z - eps


def linear_relevance(x: np.ndarray, weight: np.ndarray, relevance: np.ndarray, eps: float = EPSILON) -> np.ndarray:
    """x [T, in], weight [out, in], relevance [T, out] → [T, in]; LRP-α1β0, bias ignored."""
    tokens, inputs = x.shape
    outputs = weight.shape[0]
    result = np.zeros((tokens, inputs))
    for t in range(tokens):
        for j in range(outputs):
            # z_ij⁺ = max(x_i·w_ji, 0) for every input i of output j
            contributions = np.maximum(x[t] * weight[j], 0.0)
            share = relevance[t, j] / stabilise(contributions.sum(), eps)
            result[t] += contributions * share
    return result


def matmul_relevance(
    a: np.ndarray, b: np.ndarray, relevance: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """a [I, K], b [K, J], relevance [I, J] → (R_a [I, K], R_b [K, J]); LRP-0, each in full, with the
    signed ε given (the caller knows over which heads the mean |z| runs)."""
    rows = a.shape[0]
    cols = b.shape[1]
    relevance_a = np.zeros_like(a, dtype=np.float64)
    relevance_b = np.zeros_like(b, dtype=np.float64)
    for i in range(rows):
        for j in range(cols):
            # a_ik·b_kj for every k of output (i, j)
            contributions = a[i, :] * b[:, j]
            share = relevance[i, j] / stabilise(contributions.sum(), eps)
            relevance_a[i, :] += contributions * share
            relevance_b[:, j] += contributions * share
    return relevance_a, relevance_b


def residual_relevance(
    skip: np.ndarray, branch: np.ndarray, relevance: np.ndarray, delta: float = RELATIVE_EPSILON
) -> tuple[np.ndarray, np.ndarray]:
    """Split R of skip + branch by contribution, then rescale each part to its |Σ| share of Σ R
    (the paper's form: part · share / Σ part)."""
    eps = delta * np.abs(skip + branch).mean() + EPSILON
    relevance_skip = np.zeros(skip.shape)
    relevance_branch = np.zeros(skip.shape)
    for index in np.ndindex(skip.shape):
        share = relevance[index] / stabilise(skip[index] + branch[index], eps)
        relevance_skip[index] = skip[index] * share
        relevance_branch[index] = branch[index] * share
    sum_skip, sum_branch, total = relevance_skip.sum(), relevance_branch.sum(), relevance.sum()
    weight = abs(sum_skip) + abs(sum_branch) + EPSILON
    relevance_skip *= abs(sum_skip) / weight * total / sum_skip
    relevance_branch *= abs(sum_branch) / weight * total / sum_branch
    return relevance_skip, relevance_branch


def explained_weights(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`target` [C], or the one-hot of the top logit (the first one on ties) when it is all zeros."""
    if np.any(target != 0):
        return target.astype(np.float64)
    weights = np.zeros(logits.shape)
    weights[int(np.argmax(logits))] = 1.0
    return weights


# ---- whole model -------------------------------------------------------------------------------


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _forward(state: dict, config, image: np.ndarray) -> dict:
    """Plain DeiT forward from the state_dict, one image (normalised [3,S,S]), recording what LRP reads."""
    d, heads, p, g = config.embed_dim, config.heads, config.patch_size, config.grid_size
    hd = d // heads
    patches = image.reshape(3, g, p, g, p).transpose(1, 3, 0, 2, 4).reshape(g * g, 3 * p * p)
    patches = patches @ state["patch_embed.proj.weight"].reshape(d, -1).T + state["patch_embed.proj.bias"]
    prefix = [state["cls_token"][0]] + ([state["dist_token"][0]] if config.distilled else [])
    x = np.concatenate(prefix + [patches], axis=0) + state["pos_embed"][0]
    n = x.shape[0]
    blocks = []
    for l in range(config.depth):
        w = {k[len(f"blocks.{l}."):]: v for k, v in state.items() if k.startswith(f"blocks.{l}.")}
        rec = {"x_in": x}
        h = _layer_norm(x, w["norm1.weight"], w["norm1.bias"], 1e-6)
        rec["ln1"] = h
        qkv = (h @ w["attn.qkv.weight"].T + w["attn.qkv.bias"]).reshape(n, 3, heads, hd).transpose(1, 2, 0, 3)
        q, k, v = qkv[0] * hd ** -0.5, qkv[1], qkv[2]  # [H,N,hd], q scaled
        attn = _softmax(np.einsum("hik,hjk->hij", q, k))
        ctx = np.einsum("hij,hjk->hik", attn, v)
        rec.update(q=q, k=k, v=v, attn=attn, ctx=ctx.transpose(1, 0, 2).reshape(n, d))
        rec["proj_out"] = rec["ctx"] @ w["attn.proj.weight"].T + w["attn.proj.bias"]
        x_mid = x + rec["proj_out"]
        h2 = _layer_norm(x_mid, w["norm2.weight"], w["norm2.bias"], 1e-6)
        hidden = _gelu(h2 @ w["mlp.fc1.weight"].T + w["mlp.fc1.bias"])
        fc2_out = hidden @ w["mlp.fc2.weight"].T + w["mlp.fc2.bias"]
        rec.update(x_mid=x_mid, ln2=h2, hidden=hidden, fc2_out=fc2_out, weights=w)
        x = x_mid + fc2_out
        blocks.append(rec)
    out = _layer_norm(x, state["norm.weight"], state["norm.bias"], 1e-6)
    return {"blocks": blocks, "features": out[: config.prefix_tokens].reshape(-1), "tokens": n}


def model_relevance(state: dict, config, image: np.ndarray, head_weight: np.ndarray, head_bias: np.ndarray,
                    target: np.ndarray, delta: float = RELATIVE_EPSILON) -> dict:
    """Whole-model reference for one image: 'attention' [L,H,N,N] relevance, 'attn' [L,H,N,N]
    probabilities, 'logits' [C] and 'tokens' [N,D], the relevance reaching block 0's input."""
    state = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}
    fwd = _forward(state, config, np.asarray(image, dtype=np.float64))
    features, n, d = fwd["features"], fwd["tokens"], config.embed_dim
    heads, hd = config.heads, d // config.heads
    logits = head_weight @ features + head_bias
    weights = explained_weights(logits, target)
    relevance_features = linear_relevance(features[None], head_weight, weights[None])[0]
    relevance = np.zeros((n, d))
    relevance[: config.prefix_tokens] = relevance_features.reshape(config.prefix_tokens, d)
    attention = [None] * config.depth
    for l in reversed(range(config.depth)):
        rec, w = fwd["blocks"][l], fwd["blocks"][l]["weights"]
        relevance_mid, relevance_mlp = residual_relevance(rec["x_mid"], rec["fc2_out"], relevance, delta)
        relevance_hidden = linear_relevance(rec["hidden"], w["mlp.fc2.weight"], relevance_mlp)
        relevance = relevance_mid + linear_relevance(rec["ln2"], w["mlp.fc1.weight"], relevance_hidden)
        relevance_in, relevance_proj = residual_relevance(rec["x_in"], rec["proj_out"], relevance, delta)
        relevance_ctx = linear_relevance(rec["ctx"], w["attn.proj.weight"], relevance_proj)
        relevance_ctx = relevance_ctx.reshape(n, heads, hd).transpose(1, 0, 2)
        relevance_qkv = np.zeros((3, heads, n, hd))
        attention[l] = np.zeros((heads, n, n))
        # ε of each product: delta · mean |z| over all heads of the block.
        eps_ctx = delta * np.abs(rec["ctx"]).mean() + EPSILON
        eps_scores = delta * np.abs(np.einsum("hik,hjk->hij", rec["q"], rec["k"])).mean() + EPSILON
        for h in range(heads):
            r_attn, r_v = matmul_relevance(rec["attn"][h], rec["v"][h], relevance_ctx[h], eps_ctx)
            attention[l][h] = r_attn / 2
            r_q, r_kt = matmul_relevance(rec["q"][h], rec["k"][h].T, attention[l][h], eps_scores)
            relevance_qkv[:, h] = np.stack([r_q / 2, r_kt.T / 2, r_v / 2])
        relevance_qkv = relevance_qkv.transpose(2, 0, 1, 3).reshape(n, 3 * d)
        relevance = relevance_in + linear_relevance(rec["ln1"], w["attn.qkv.weight"], relevance_qkv)
    return {"attention": np.stack(attention), "attn": np.stack([r["attn"] for r in fwd["blocks"]]),
            "logits": logits, "tokens": relevance}
