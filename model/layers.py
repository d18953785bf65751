"""The open-set score over intermediate blocks (docs/model-contract.md, `layer_statistics`): one Gaussian per chosen
row of the graphs' `layer_features` output (a block's CLS token or its mean patch token), fitted on the TRAINING
photos of every class pooled (class-agnostic, so a class taught on the phone only adds photos to each pool);
each row's squared Mahalanobis distance becomes a p-value through a normal fit of its log on the training
photos, and the rows' p-values are combined by Fisher's method, S = −2·Σ log p_r. The photo is refused when S is
above the head's threshold (set on val, in domain only). The maths mirrors src/engine/model/layers.ts."""
from __future__ import annotations

import base64
import math
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

if __package__ in (None, ""):  # run as a script (python model/layers.py): make `import model` work
    import os as _os
    import sys as _sys
    _sys.path.insert(0, _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))))

from model.gaussian import (DomainError, ledoit_wolf_shrinkage, l2_normalize, precision_of, shrunk_covariance,  # noqa: E402
                            validate_teach_margin)

LAYER_SCORE = "layer_fisher"


def rows_of(layer_features: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """[n, 2L·D] or [n, 2L, D] graph outputs → the chosen rows, L2-normalised: [n, K, D]."""
    x = np.asarray(layer_features, dtype=np.float64)
    return l2_normalize(x[:, list(rows), :])


# Chebyshev fit of erfc (Numerical Recipes' erfcc, relative error < 1.2e-7 everywhere), used in its log form so
# the far tail never underflows; src/engine/model/layers.ts uses the same coefficients.
ERFC_COEFFICIENTS = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
                     1.48851587, -0.82215223, 0.17087277)


def log_erfc(x: np.ndarray) -> np.ndarray:
    """log erfc(x) for x ≥ 0."""
    t = 1.0 / (1.0 + 0.5 * x)
    poly = np.zeros_like(x)
    for c in reversed(ERFC_COEFFICIENTS):
        poly = poly * t + c
    return np.log(t) - x * x + poly


def log_normal_sf(z: np.ndarray) -> np.ndarray:
    """log P(Z > z) for a standard normal Z, accurate far into the tail (where 1 − Φ underflows)."""
    x = np.asarray(z, dtype=np.float64) / math.sqrt(2.0)
    upper = math.log(0.5) + log_erfc(np.abs(x))
    return np.where(x >= 0, upper, np.log1p(-np.exp(upper)))


def fit_layer_statistics(train_layer_features: np.ndarray, rows: Sequence[int], layers: int) -> Dict[str, Any]:
    """Per chosen row: mean, scatter (not divided), count, Ledoit–Wolf shrinkage, and the normal fit (mean, sd) of
    log d² over the training photos. Returns the head's `layer_statistics` (numbers as arrays; see encode)."""
    x = rows_of(train_layer_features, rows)
    n, k, d = x.shape
    fitted: List[Dict[str, Any]] = []
    for j, row in enumerate(rows):
        v = x[:, j, :]
        mean = v.mean(axis=0)
        centred = v - mean
        lam = ledoit_wolf_shrinkage(centred)
        fitted.append({"row": int(row), "count": int(n), "mean": mean, "scatter": centred.T @ centred,
                       "shrinkage": round(float(lam), 6)})
    stats = {"feature_norm": "l2", "layers": layers, "rows": fitted}
    d2 = row_distances(stats, train_layer_features)
    logs = np.log(np.maximum(d2, 1e-12))
    for j, entry in enumerate(fitted):
        entry["log_d2_mean"] = float(logs[:, j].mean())
        entry["log_d2_sd"] = float(logs[:, j].std(ddof=1))
    return stats


def held_out_scores(train_layer_features: np.ndarray, train_labels: np.ndarray, val_layer_features: np.ndarray,
                    val_labels: np.ndarray, rows: Sequence[int], layers: int):
    """held_out_scores of model/domain.py fit_teach_margin for this rule: the Gaussians of every class's train photos
    but class h's; the other classes' val scores and class h's."""
    train_labels, val_labels = np.asarray(train_labels), np.asarray(val_labels)

    def scores(h: int):
        stats = fit_layer_statistics(train_layer_features[train_labels != h], rows, layers)
        return layer_scores(stats, val_layer_features[val_labels != h]), layer_scores(stats, val_layer_features[val_labels == h])
    return scores


def row_distances(stats: Dict[str, Any], layer_features: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distance of each photo to each row's Gaussian: [n, K]."""
    rows = [e["row"] for e in stats["rows"]]
    x = rows_of(layer_features, rows)
    out = np.empty(x.shape[:2])
    for j, e in enumerate(stats["rows"]):
        precision = precision_of(shrunk_covariance(np.asarray(e["scatter"]), e["count"] - 1, e["shrinkage"]))
        diff = x[:, j, :] - np.asarray(e["mean"])
        out[:, j] = np.einsum("bf,fg,bg->b", diff, precision, diff)
    return out


def row_log_p(stats: Dict[str, Any], layer_features: np.ndarray) -> np.ndarray:
    """log p_r per photo and row: p_r = P(Z > (log d²_r − m_r)/s_r), [n, K]."""
    d2 = row_distances(stats, layer_features)
    m = np.asarray([e["log_d2_mean"] for e in stats["rows"]])
    s = np.asarray([e["log_d2_sd"] for e in stats["rows"]])
    return log_normal_sf((np.log(np.maximum(d2, 1e-12)) - m) / s)


def layer_scores(stats: Dict[str, Any], layer_features: np.ndarray) -> np.ndarray:
    """Fisher's combination S = −2·Σ_r log p_r."""
    return -2.0 * row_log_p(stats, layer_features).sum(axis=1)


# ---- head encoding: float32 little-endian, base64 (upper triangle for the symmetric scatter) -----------------

def _b64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def _unb64(text: str, count: int, what: str) -> np.ndarray:
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as err:
        raise DomainError(f"{what} is not base64") from err
    if len(raw) != 4 * count:
        raise DomainError(f"{what} has {len(raw) // 4} numbers, expected {count}")
    out = np.frombuffer(raw, dtype="<f4").astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise DomainError(f"{what} has a non-finite number")
    return out


def encode(stats: Dict[str, Any], threshold: float, teach_margin: Optional[float] = None) -> Dict[str, Any]:
    """The head's `layer_statistics` field (docs/model-contract.md)."""
    rows = []
    for e in stats["rows"]:
        scatter = np.asarray(e["scatter"])
        upper = scatter[np.triu_indices(scatter.shape[0])]
        rows.append({"row": e["row"], "count": e["count"], "shrinkage": e["shrinkage"], "mean": _b64(e["mean"]),
                     "scatter_upper": _b64(upper), "log_d2_mean": round(e["log_d2_mean"], 6),
                     "log_d2_sd": round(e["log_d2_sd"], 6)})
    field = {"feature_norm": "l2", "layers": stats["layers"], "score": LAYER_SCORE, "threshold": float(threshold), "rows": rows}
    if teach_margin is not None:
        field["teach_margin"] = round(float(teach_margin), 6)
    return field


def decode(field: Dict[str, Any], embed_dim: Optional[int] = None) -> Dict[str, Any]:
    """`layer_statistics` → arrays, checking the contract's rules (the engine checks the same)."""
    if not isinstance(field, dict) or field.get("feature_norm") != "l2" or field.get("score") != LAYER_SCORE:
        raise DomainError(f"layer_statistics must have feature_norm 'l2' and score '{LAYER_SCORE}'")
    layers = field.get("layers")
    if not isinstance(layers, int) or layers < 1:
        raise DomainError("layer_statistics.layers must be a positive integer")
    th = field.get("threshold")
    if not isinstance(th, (int, float)) or not math.isfinite(th):
        raise DomainError("layer_statistics.threshold must be a finite number")
    validate_teach_margin(field, "layer_statistics")
    entries = field.get("rows")
    if not isinstance(entries, list) or not entries:
        raise DomainError("layer_statistics.rows must be a non-empty list")
    rows, seen = [], set()
    if embed_dim is None:  # the head does not name D: the first mean's length does (the engine checks it against D)
        first = entries[0].get("mean") if isinstance(entries[0], dict) else None
        embed_dim = len(base64.b64decode(first or "", validate=False)) // 4 if isinstance(first, str) else 0
    if embed_dim < 1:
        raise DomainError("layer_statistics.rows[0].mean is missing")
    tri = embed_dim * (embed_dim + 1) // 2
    for i, e in enumerate(entries):
        what = f"layer_statistics.rows[{i}]"
        if not isinstance(e, dict):
            raise DomainError(f"{what} must be an object")
        row, count, lam = e.get("row"), e.get("count"), e.get("shrinkage")
        if not isinstance(row, int) or not 0 <= row < 2 * layers or row in seen:
            raise DomainError(f"{what}.row must be a distinct integer in [0, 2·layers)")
        seen.add(row)
        if not isinstance(count, int) or count < 2:
            raise DomainError(f"{what}.count must be an integer ≥ 2")
        if not isinstance(lam, (int, float)) or not 0 < lam <= 1:
            raise DomainError(f"{what}.shrinkage must be in (0, 1]")
        sd = e.get("log_d2_sd")
        if not isinstance(e.get("log_d2_mean"), (int, float)) or not isinstance(sd, (int, float)) or not sd > 0:
            raise DomainError(f"{what}: log_d2_mean must be a number, log_d2_sd positive")
        upper = _unb64(e.get("scatter_upper", ""), tri, f"{what}.scatter_upper")
        scatter = np.zeros((embed_dim, embed_dim))
        scatter[np.triu_indices(embed_dim)] = upper
        scatter = scatter + np.triu(scatter, 1).T
        if not np.trace(scatter) > 0:
            raise DomainError(f"{what}.scatter_upper must have a positive trace")
        precision_of(shrunk_covariance(scatter, count - 1, lam))  # positive definite, or DomainError
        rows.append({"row": row, "count": count, "shrinkage": float(lam), "mean": _unb64(e.get("mean", ""), embed_dim, f"{what}.mean"),
                     "scatter": scatter, "log_d2_mean": float(e["log_d2_mean"]), "log_d2_sd": float(sd)})
    out = {"feature_norm": "l2", "layers": layers, "rows": rows, "threshold": float(th)}
    if "teach_margin" in field:
        out["teach_margin"] = float(field["teach_margin"])
    return out


# ---- a small shared reference for the TypeScript side (test/engine/layers.test.ts) ------------------------

REFERENCE = "test/fixtures/layers/reference.json"


def reference_case(seed: int = 7) -> Dict[str, Any]:
    """A synthetic head (3 blocks, width 8, rows 1, 4, 5) fitted on 200 photos, 6 photos to score, and the scores
    after 3 more photos are pooled in, computed DIRECTLY from the union of the raw rows (the engine updates its
    statistics incrementally; the shrinkage, p-value fits and threshold stay those of the fit)."""
    rng = np.random.default_rng(seed)
    layers, width, rows = 3, 8, [1, 4, 5]
    base = rng.normal(size=(2 * layers, width))
    train = base + 0.3 * rng.normal(size=(200, 2 * layers, width))
    photos = base + rng.choice([0.3, 0.6, 1.2], size=(6, 1, 1)) * rng.normal(size=(6, 2 * layers, width))
    added = base + 0.8 + 0.3 * rng.normal(size=(3, 2 * layers, width))
    stats = fit_layer_statistics(train, rows, layers)
    field = encode(stats, threshold=10.0)
    decoded = decode(json_roundtrip(field), width)  # float32, as the engine reads it
    union = rows_of(np.concatenate([train, added]), rows)
    pooled = {**decoded, "rows": [{**e, "count": len(union), "mean": union[:, j].mean(axis=0),
                                   "scatter": (union[:, j] - union[:, j].mean(axis=0)).T @ (union[:, j] - union[:, j].mean(axis=0))}
                                  for j, e in enumerate(decoded["rows"])]}
    # The pooled scatter differs from the float32 head's by the rounding of the fitted part only.
    return {"layers": layers, "width": width, "layer_statistics": field,
            "photos": photos.reshape(6, -1).tolist(), "scores": layer_scores(decoded, photos).tolist(),
            "added": added.reshape(3, -1).tolist(), "scores_after_adding": layer_scores(pooled, photos).tolist()}


def json_roundtrip(value: Dict[str, Any]) -> Dict[str, Any]:
    import json
    return json.loads(json.dumps(value))


if __name__ == "__main__":
    import json
    import os
    import sys

    out = sys.argv[1] if len(sys.argv) > 1 else REFERENCE  # run from the repository root
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(reference_case(), f)
        f.write("\n")
    print(f"wrote {out}")
