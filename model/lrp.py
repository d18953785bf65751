"""LRP relevance for Chefer, Gur & Wolf's "transformer attribution" (CVPR 2021).

Relevance starts at the logits as the explained class weights t (the contract's `target`, or the
one-hot of the top class when `target` is all zeros) and is propagated back through the head, the
final LayerNorm and every block in reverse. What reaches each block's softmax attention
probabilities is `attention_relevance` [L,1,H,N,N]; the engine combines it with `attention_grads`.

Rules (all written with plain tensor ops so the graph exports to ONNX ops that onnxruntime-web's
WebGPU and WASM providers run: MatMul, Mul, Div, Add, Sub, Relu, Abs, Where, GreaterOrEqual,
ReduceSum, ReduceMean, Concat, Reshape, Transpose):

- linear (head, qkv, proj, fc1, fc2), LRP-α1β0: only positive contributions z_ij⁺ = max(x_i·w_ji, 0)
  count; R_i = Σ_j z_ij⁺ / (Σ_i' z_i'j⁺ + ε) · R_j. The bias is not a contributor, so Σ R_in = Σ R_out
  wherever the denominator is non-zero.
- matrix product Z = A·B (attention·V and Q·Kᵀ), LRP-0 on both operands:
  R_A[i,k] = Σ_j A_ik·B_kj / Z_ij · R_ij and R_B[k,j] = Σ_i A_ik·B_kj / Z_ij · R_ij; each operand
  then keeps half, so the two halves together conserve Σ R.
- residual x + f(x): LRP-0 split R_x = x / (x + f) · R, R_f = f / (x + f) · R, then each part is
  rescaled so that its sum is |Σ R_x| / (|Σ R_x| + |Σ R_f|) · Σ R (the paper's re-normalisation;
  conserves Σ R exactly, and gives no relevance at all when Σ R = Σ_c t_c = 0).
- a tensor used twice (the residual stream feeding a branch): the relevances of both uses add up.
- LayerNorm, GELU, softmax, the attention scale and dropout pass relevance through unchanged.
- prefix-token pooling: the features' relevance goes back to the prefix tokens, zeros elsewhere.

Every division is stabilised: ε = EPSILON for the α1β0 sums (never negative), a signed
ε = RELATIVE_EPSILON · mean |z| + EPSILON for the LRP-0 ones (z + ε where z ≥ 0, z − ε otherwise).
No `OneHot`, `ScatterND` or autograd, so the same code is the PyTorch reference and the exported graph.
docs/model-contract.md ("LRP rules used for `attention_relevance`") states the rules for the engine side.
"""

from __future__ import annotations

import torch
from torch import Tensor

# The contract's class weights (target, or the one-hot of the top class), shared with attention_grads.
from model.target import explained_weights

# α1β0 denominators are sums of non-negative terms (no cancellation): ε only guards an exact zero
# (1e-6 rather than the paper's 1e-9 so that it survives the fp16 graphs).
EPSILON = 1e-6
# The LRP-0 divisions (residual split, A·V, Q·Kᵀ) divide by signed sums that come arbitrarily close to
# zero; there ε = RELATIVE_EPSILON · mean |z| over the example (+ EPSILON), which is scale-free.
# Measured on 12 seeded micro models (lrp map vs the paper's ε → 0): 1e-4 keeps correlation ≥ 0.99 on 11
# (0.84 on the 12th, where already 1e-6 moves the ε → 0 map); 1e-3 gives 0.42–0.99 and 1e-2 down to 0,
# though larger values make float32 runtimes agree more closely (onnxruntime vs PyTorch, worst block:
# 6.9e-3 at 1e-4, 4.2e-4 at 1e-3, 2e-5 at 1e-2, 2.0 at 0).
RELATIVE_EPSILON = 1e-4


def stabilise(z: Tensor, eps: float | Tensor = EPSILON) -> Tensor:
    """z pushed away from zero by eps, keeping its sign (zero counts as positive)."""
    return torch.where(z >= 0, z + eps, z - eps)


def relative_epsilon(z: Tensor, delta: float, leading: int = 1) -> Tensor:
    """delta · mean |z| over all but the first ``leading`` axes (kept for broadcasting), plus EPSILON."""
    return delta * z.abs().mean(dim=tuple(range(leading, z.dim())), keepdim=True) + EPSILON


def positive_part(x: Tensor) -> Tensor:
    return torch.relu(x)


def negative_part(x: Tensor) -> Tensor:
    # x − relu(x) exports as Relu + Sub; clamp(max=0) would need Clip with an empty min input.
    return x - torch.relu(x)


def _sign(x: Tensor) -> Tensor:
    """±1 with sign(0) = +1, as Where (not every execution provider has Sign)."""
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


def linear_relevance(x: Tensor, weight: Tensor, relevance: Tensor, eps: float = EPSILON) -> Tensor:
    """LRP-α1β0 through y = x·Wᵀ (+ b): x [..., in], weight [out, in], relevance [..., out] → [..., in].

    max(x·w, 0) = x⁺·w⁺ + x⁻·w⁻, so the positive contributions are two non-negative matrix products
    (no cancellation, so the denominator is as precise as the forward pass).
    """
    w_pos, w_neg = positive_part(weight), negative_part(weight)
    x_pos, x_neg = positive_part(x), negative_part(x)
    z = torch.matmul(x_pos, w_pos.transpose(0, 1)) + torch.matmul(x_neg, w_neg.transpose(0, 1))
    s = relevance / (z + eps)
    return x_pos * torch.matmul(s, w_pos) + x_neg * torch.matmul(s, w_neg)


def matmul_relevance(
    a: Tensor, b: Tensor, relevance: Tensor, delta: float = RELATIVE_EPSILON
) -> tuple[Tensor, Tensor]:
    """LRP-0 through Z = A·B (batched over leading dims), relevance for each operand in full.

    ε = delta · mean |Z| per example. Each result alone sums to Σ R·Z/(Z ± ε); callers halve them
    when both are kept.
    """
    z = torch.matmul(a, b)
    s = relevance / stabilise(z, relative_epsilon(z, delta))
    relevance_a = a * torch.matmul(s, b.transpose(-1, -2))
    relevance_b = b * torch.matmul(a.transpose(-1, -2), s)
    return relevance_a, relevance_b


def _sum_per_example(x: Tensor) -> Tensor:
    """Σ over every axis but the first, kept for broadcasting: [B, ...] → [B, 1, ..., 1]."""
    return x.sum(dim=tuple(range(1, x.dim())), keepdim=True)


def residual_relevance(
    skip: Tensor, branch: Tensor, relevance: Tensor, delta: float = RELATIVE_EPSILON
) -> tuple[Tensor, Tensor]:
    """Relevance of both summands of skip + branch, split by contribution and re-normalised.

    Raw split R_x = x/(x+f)·R (ε = delta · mean |x+f|), then each part is rescaled to
    |Σ R_x| / (|Σ R_x| + |Σ R_f|) · Σ R. Written as R_x · sign(Σ R_x) · Σ R / (|Σ R_x| + |Σ R_f|),
    which is the same number without dividing by Σ R_x (which may be near zero). Sums run over
    everything but the batch axis (the paper sums the whole tensor; our batch is 1).
    """
    z = skip + branch
    s = relevance / stabilise(z, relative_epsilon(z, delta))
    relevance_skip, relevance_branch = skip * s, branch * s
    sum_skip, sum_branch = _sum_per_example(relevance_skip), _sum_per_example(relevance_branch)
    scale = _sum_per_example(relevance) / (sum_skip.abs() + sum_branch.abs() + EPSILON)
    return relevance_skip * (_sign(sum_skip) * scale), relevance_branch * (_sign(sum_branch) * scale)


# ---- whole model -------------------------------------------------------------------------------


def _prefix_tokens_relevance(relevance_features: Tensor, tokens: int, prefix: int) -> Tensor:
    """Features [B, P·D] are the final norm's first P tokens: relevance back onto [B, N, D], zeros after."""
    b = relevance_features.shape[0]
    per_token = relevance_features.reshape(b, prefix, -1)
    rest = per_token.new_zeros(b, tokens - prefix, per_token.shape[-1])
    return torch.cat([per_token, rest], dim=1)


def propagate(
    model,
    cache: dict,
    head_weight: Tensor,
    head_bias: Tensor,
    target: Tensor,
    delta: float = RELATIVE_EPSILON,
    to_input: bool = False,
) -> dict:
    """Runs the rules from the explained score down through the model.

    ``model`` is a `model.deit.DeiT`, ``cache`` its ``forward_with_cache`` record for the same input,
    head_weight [C,F], head_bias [C], target [B,C]. Returns a dict:
      'attention' [L,B,H,N,N]  relevance at each block's softmax probabilities, block 0 first
      'logits', 'weights'      the logits and the explained class weights t
    and with ``to_input`` also (for conservation checks; the export stops at block 0's attention):
      'tokens' [B,N,D] block-0 input, 'patches' [B,G²,D], 'pos_embed' [B,N,D], 'input' [B,3,S,S].
    """
    config = model.config
    features = cache["features"]
    logits = torch.matmul(features, head_weight.transpose(0, 1)) + head_bias
    weights = explained_weights(logits, target)
    # Head: α1β0 from the class weights (the paper starts LRP from the one-hot, not one-hot·logit).
    relevance_features = linear_relevance(features, head_weight, weights)
    b, n, d = cache["final_out"].shape
    # The final LayerNorm passes relevance through.
    relevance = _prefix_tokens_relevance(relevance_features, n, config.prefix_tokens)

    heads, head_dim = config.heads, config.head_dim
    per_block: list[Tensor] = []
    for index in range(len(model.blocks) - 1, -1, -1):
        block, c = model.blocks[index], cache["blocks"][index]
        # x_out = x_mid + fc2(gelu(fc1(norm2(x_mid)))); GELU and norm2 pass relevance through.
        relevance_mid, relevance_mlp = residual_relevance(c["x_mid"], c["fc2_out"], relevance, delta)
        relevance_hidden = linear_relevance(c["gelu_out"], block.mlp.fc2.weight, relevance_mlp)
        relevance_ln2 = linear_relevance(c["ln2_out"], block.mlp.fc1.weight, relevance_hidden)
        relevance = relevance_mid + relevance_ln2

        # x_mid = x_in + proj(A·V merged); A·V splits between A and V, half each.
        relevance_in, relevance_attn_out = residual_relevance(c["x_in"], c["proj_out"], relevance, delta)
        relevance_ctx = linear_relevance(c["ctx"], block.attn.proj.weight, relevance_attn_out)
        relevance_ctx_heads = relevance_ctx.reshape(b, n, heads, head_dim).transpose(1, 2)
        relevance_attn, relevance_v = matmul_relevance(c["attn"], c["v"], relevance_ctx_heads, delta)
        relevance_attn, relevance_v = relevance_attn * 0.5, relevance_v * 0.5
        per_block.append(relevance_attn)
        if index == 0 and not to_input:
            break  # nothing below block 0's attention feeds the exported output

        # Softmax and the scale pass relevance through; scores = (q·scale)·kᵀ splits half/half.
        relevance_q, relevance_kt = matmul_relevance(
            c["q"] * c["scale"], c["k"].transpose(-2, -1), relevance_attn, delta)
        relevance_q, relevance_k = relevance_q * 0.5, relevance_kt.transpose(-2, -1) * 0.5
        # Back to the qkv layout [B,N,(3,H,hd)] that split_qkv reads.
        relevance_qkv = torch.stack([relevance_q, relevance_k, relevance_v], dim=0)
        relevance_qkv = relevance_qkv.permute(1, 3, 0, 2, 4).reshape(b, n, 3 * d)
        relevance_ln1 = linear_relevance(c["ln1_out"], block.attn.qkv.weight, relevance_qkv)
        relevance = relevance_in + relevance_ln1  # norm1 passes through; both uses of x_in add up

    result = {"attention": torch.stack(per_block[::-1], dim=0), "logits": logits, "weights": weights}
    if to_input:
        result.update(_embedding_relevance(model, cache, relevance, delta))
    return result


def _embedding_relevance(model, cache: dict, relevance_tokens: Tensor, delta: float) -> dict:
    """tokens = [prefix; patches] + pos_embed, patches = conv(input): the residual rule, then α1β0 on
    the patch embedding written as a linear map over flattened patches."""
    config = model.config
    patches = cache["patches"]
    b = patches.shape[0]
    prefix = [model.cls_token.expand(b, -1, -1)]
    if model.dist_token is not None:
        prefix.append(model.dist_token.expand(b, -1, -1))
    content = torch.cat(prefix + [patches], dim=1)
    pos = model.pos_embed.expand_as(content)
    relevance_content, relevance_pos = residual_relevance(content, pos, relevance_tokens, delta)
    relevance_patches = relevance_content[:, config.prefix_tokens:]
    x = cache["input"]
    p, g = config.patch_size, config.grid_size
    flat = x.reshape(b, 3, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(b, g * g, 3 * p * p)
    weight = model.patch_embed.proj.weight.reshape(config.embed_dim, 3 * p * p)
    relevance_flat = linear_relevance(flat, weight, relevance_patches)
    relevance_input = relevance_flat.reshape(b, g, g, 3, p, p).permute(0, 3, 1, 4, 2, 5).reshape(x.shape)
    return {"tokens": relevance_tokens, "patches": relevance_patches, "pos_embed": relevance_pos,
            "input": relevance_input}


def attention_relevance(
    model, cache: dict, head_weight: Tensor, head_bias: Tensor, target: Tensor,
    delta: float = RELATIVE_EPSILON,
) -> Tensor:
    """The contract's `attention_relevance` [L,B,H,N,N] (B = 1 in the graph)."""
    return propagate(model, cache, head_weight, head_bias, target, delta)["attention"]
