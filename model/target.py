"""The explained score's class weights, shared by the gradient graph (model/graph.py) and LRP (model/lrp.py)."""
from __future__ import annotations

import torch
from torch import Tensor


def explained_weights(logits: Tensor, target: Tensor) -> Tensor:
    """Class weights w [B,C] of the explained score s = Σ w·logits: ``target``, or the one-hot of the top
    logit (the first one on a tie, like argmax) where a row of ``target`` is all zeros.

    Built from float ops only (ReduceMax, Equal, CumSum, Cast, Where): an ArgMax/Range index comparison is
    int64 work that onnxruntime-web's WebGPU EP leaves on the CPU, and OneHot it lacks altogether."""
    is_max = (logits == logits.amax(dim=1, keepdim=True)).to(logits.dtype)          # [B,C] 1 at every max
    first = (torch.cumsum(is_max, dim=1) == 1).to(logits.dtype)                      # up to the first max
    one_hot = is_max * first
    all_zero = target.abs().sum(dim=1, keepdim=True) == 0                            # [B,1] bool
    return torch.where(all_zero, one_hot, target)
