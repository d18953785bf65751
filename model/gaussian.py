"""The Gaussian pieces shared by the open-set rules on the final features (model/domain.py) and on the
intermediate blocks (model/layers.py): normalisation, shrinkage, precision, the teach margin's rule. Its own module
so that neither imports the other's internals in a cycle. The maths mirrors src/engine/model/domain.ts."""
from __future__ import annotations

import math
from typing import Any, Dict

import numpy as np


class DomainError(ValueError):
    pass


def l2_normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def ledoit_wolf_shrinkage(centred: np.ndarray) -> float:
    """Ledoit–Wolf (2004) optimal λ for shrinking the sample covariance toward (trace/F)·I."""
    n, f = centred.shape
    sample = centred.T @ centred / n
    mu = np.trace(sample) / f
    delta = np.sum((sample - mu * np.eye(f)) ** 2)
    beta = sum(np.sum((np.outer(r, r) - sample) ** 2) for r in centred) / n ** 2
    return float(min(1.0, max(0.0, min(beta, delta) / delta))) if delta > 0 else 1.0


def shrunk_covariance(scatter: np.ndarray, dof: float, shrinkage: float) -> np.ndarray:
    cov = scatter / dof
    f = cov.shape[0]
    return (1 - shrinkage) * cov + shrinkage * (np.trace(cov) / f) * np.eye(f)


def precision_of(cov: np.ndarray) -> np.ndarray:
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError as err:
        raise DomainError(f"covariance not positive definite ({err})") from err
    inv = np.linalg.inv(chol)
    return inv.T @ inv


def validate_teach_margin(rule: Dict[str, Any], what: str) -> None:
    """`teach_margin`, when present: a finite number ≥ 1, on a rule whose threshold is positive."""
    margin = rule.get("teach_margin")
    if margin is None:
        return
    threshold = rule.get("threshold")
    if (not isinstance(margin, (int, float)) or isinstance(margin, bool) or not math.isfinite(margin) or margin < 1
            or not isinstance(threshold, (int, float)) or not threshold > 0):
        raise DomainError(f"{what}.teach_margin must be a number ≥ 1, on a positive threshold")
