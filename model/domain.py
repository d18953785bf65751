"""Knowing when the model does not know: the optional head fields of docs/model-contract.md
("Knowing when it does not know") fitted from backbone features, plus their validation.

Statistics come from the TRAINING photos only; the temperature is fitted on val by NLL; the open-set threshold
is a quantile of the val photos' scores (in-domain only: no out-of-domain photo is used in fitting); the sure
threshold is chosen on the calibrated val probabilities. The maths mirrors src/engine/model/domain.ts."""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from model.gaussian import (DomainError, l2_normalize, ledoit_wolf_shrinkage, precision_of, shrunk_covariance,  # noqa: F401
                            validate_teach_margin)
from model.layers import decode as decode_layer_statistics

FEATURE_NORM = "l2"
OPEN_SET_SCORES = ("mahalanobis", "relative_mahalanobis")
DOMAIN_FIELDS = ("statistics", "calibration", "open_set", "confidence")


def class_statistics(features: np.ndarray, labels: np.ndarray, classes: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means [C,F], counts [C], pooled within-class scatter [F,F] (not divided) of the L2-normalised features."""
    x = l2_normalize(features)
    labels = np.asarray(labels)
    means, counts = [], []
    scatter = np.zeros((x.shape[1], x.shape[1]))
    for c in range(classes):
        rows = x[labels == c]
        if len(rows) == 0:
            raise DomainError(f"class {c} has no training photos")
        mean = rows.mean(axis=0)
        centred = rows - mean
        scatter += centred.T @ centred
        means.append(mean)
        counts.append(len(rows))
    return np.stack(means), np.asarray(counts), scatter


def statistics_covariance(stats: Dict[str, Any]) -> np.ndarray:
    """Σ of head.json `statistics`: the shrunk pooled covariance (1−λ)·S/(n−C) + λ·(tr/F)·I (domain.ts sharedCovariance)."""
    counts = stats["class_counts"]
    return shrunk_covariance(np.asarray(stats["scatter"], dtype=np.float64), sum(counts) - len(counts), float(stats["shrinkage"]))


def open_set_scores(stats: Dict[str, Any], features: np.ndarray, score: str, class_scale: Any = None) -> np.ndarray:
    """The engine's scores (src/engine/model/domain.ts) for a batch of raw features. `class_scale` (head.json
    `open_set.class_scale`, one number per class; None = all 1): each class's d² is divided by it before the minimum."""
    means = np.asarray(stats["class_means"], dtype=np.float64)
    counts = np.asarray(stats["class_counts"], dtype=np.float64)
    scatter = np.asarray(stats["scatter"], dtype=np.float64)
    lam = float(stats["shrinkage"])
    n = counts.sum()
    x = l2_normalize(features)
    precision = precision_of(statistics_covariance(stats))
    d = x[:, None, :] - means[None, :, :]
    per_class = np.einsum("bcf,fg,bcg->bc", d, precision, d)
    if class_scale is not None:
        per_class = per_class / np.asarray(class_scale, dtype=np.float64)[None, :]
    best = per_class.min(axis=1)
    if score == "mahalanobis":
        return best
    if score == "relative_mahalanobis":
        mu = (counts[:, None] * means).sum(axis=0) / n
        between = sum(cnt * np.outer(m - mu, m - mu) for cnt, m in zip(counts, means))
        background = precision_of(shrunk_covariance(scatter + between, n - 1, lam))
        d0 = x - mu
        return best - np.einsum("bf,fg,bg->b", d0, background, d0)
    raise DomainError(f"unknown open-set score {score!r}")


def open_set_threshold_scale(before: Dict[str, Any], after: Dict[str, Any]) -> float:
    """r = tr(Σ_after⁻¹ Σ_before) / F: a taught or corrected head's open-set threshold is the previous one × r
    (docs/model-contract.md, "The open-set threshold of a taught or corrected head"; the engine computes it in
    src/engine/model/teach.ts openSetThresholdScale). Σ the shrunk covariance of each statistics."""
    sigma_before, sigma_after = statistics_covariance(before), statistics_covariance(after)
    return float(np.trace(np.linalg.solve(sigma_after, sigma_before)) / sigma_before.shape[0])


def taught_class_spread(stats: Dict[str, Any], features: np.ndarray, reference_d2: float) -> float:
    """v of a class taught from `features` (raw, ≥ 2 photos) under `stats` (the taught head's): tr(Σ⁻¹ S_c) / (n − 1)
    over `reference_d2`; the engine's taughtClassSpread (src/engine/model/teach.ts), docs/model-contract.md."""
    x = l2_normalize(np.asarray(features, dtype=np.float64))
    if len(x) < 2:
        raise DomainError("a spread needs at least 2 photos")
    centred = x - x.mean(axis=0)
    d2 = np.einsum("ij,ij->i", centred @ precision_of(statistics_covariance(stats)), centred)
    return float(d2.sum() / (len(x) - 1) / reference_d2)


def taught_class_scale(photos: int, spread: float = 1.0) -> float:
    """(1 + 1/n)·max(1, v): what a taught class's d² is divided by (open_set.class_scale; teach.ts taughtClassScale)."""
    return (1 + 1 / photos) * max(1.0, spread)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    p = softmax(logits, temperature)
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(labels)), labels], 1e-12))))


def fit_temperature(logits: np.ndarray, labels: np.ndarray, low: float = 0.05, high: float = 20.0) -> float:
    """argmin_T NLL(softmax(logits/T)) by golden-section search on log T (NLL is unimodal in T)."""
    a, b = math.log(low), math.log(high)
    g = (math.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    for _ in range(80):
        if nll(logits, labels, math.exp(c)) < nll(logits, labels, math.exp(d)):
            b, d = d, c
            c = b - g * (b - a)
        else:
            a, c = c, d
            d = a + g * (b - a)
    return math.exp((a + b) / 2)


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    top = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    which = np.minimum(bins - 1, np.floor(top * bins).astype(int))
    return float(sum(abs(right[which == b].sum() - top[which == b].sum()) for b in range(bins)) / len(labels))


def threshold_at_refusal(scores: np.ndarray, rate: float) -> float:
    """A threshold with at most `rate` of the val photos above it (score > threshold → refused): halfway between the
    highest accepted score and the next one, so that rounding the statistics or fp16 features cannot flip a val
    photo that sits exactly on it."""
    ordered = np.sort(scores)
    index = min(len(ordered) - 1, max(0, math.ceil((1 - rate) * len(ordered)) - 1))
    if index + 1 < len(ordered):
        return float((ordered[index] + ordered[index + 1]) / 2)
    return float(ordered[index])


# A class taught on the phone is, by design, one the head does not know: its photos score a little beyond the
# threshold. At most this share of such photos may be refused when they are offered for teaching.
TEACH_MAX_REFUSED = 0.10


def fit_teach_margin(held_out_scores: Callable[[int], Tuple[np.ndarray, np.ndarray]], classes: int, val_refusal: float,
                     max_refused: float = TEACH_MAX_REFUSED) -> Tuple[float, Dict[str, Any]]:
    """`teach_margin` of an open-set rule with positive scores (docs/model-contract.md): each class in turn plays the
    new disease. held_out_scores(h) gives, under statistics fitted on the TRAIN photos of every class but h, the scores
    of the other classes' val photos and of class h's val photos; the threshold is set on the former as fit_domain
    sets it, and the margin is the smallest m ≥ 1 with at most `max_refused` of every left-out class's photos above
    m × threshold. Bean photos only: no out-of-domain photo is used."""
    margin, per_class = 1.0, []
    for h in range(classes):
        known, held = (np.asarray(a, dtype=np.float64) for a in held_out_scores(h))
        threshold = threshold_at_refusal(known, val_refusal)
        if not threshold > 0:
            raise DomainError("a teach margin needs a positive threshold (a score that is positive, like mahalanobis)")
        ratio = held / threshold
        margin = max(margin, threshold_at_refusal(ratio, max_refused))
        per_class.append({"class": h, "photos": int(len(held)), "ratios": ratio})
    report = {"margin": margin, "max_refused": max_refused,
              "left_out": [{"class": e["class"], "photos": e["photos"], "refused_at_threshold": float((e["ratios"] > 1).mean()),
                            "refused_at_margin": float((e["ratios"] > margin).mean())} for e in per_class]}
    return float(margin), report


def cls_held_out_scores(train_features: np.ndarray, train_labels: np.ndarray, val_features: np.ndarray,
                        val_labels: np.ndarray) -> Callable[[int], Tuple[np.ndarray, np.ndarray]]:
    """held_out_scores of fit_teach_margin for the `mahalanobis` rule: class statistics of the other classes."""
    train_labels, val_labels = np.asarray(train_labels), np.asarray(val_labels)

    def scores(h: int) -> Tuple[np.ndarray, np.ndarray]:
        keep = train_labels != h
        labels = train_labels[keep] - (train_labels[keep] > h)
        classes = int(labels.max()) + 1
        means, counts, scatter = class_statistics(train_features[keep], labels, classes)
        lam = ledoit_wolf_shrinkage(l2_normalize(train_features[keep]) - means[labels])
        stats = {"class_means": means, "class_counts": counts, "scatter": scatter, "shrinkage": lam}
        return (open_set_scores(stats, val_features[val_labels != h], "mahalanobis"),
                open_set_scores(stats, val_features[val_labels == h], "mahalanobis"))
    return scores


def fit_min_probability(probabilities: np.ndarray, labels: np.ndarray, accepted: np.ndarray,
                        precision_target: float, share_target: float) -> Tuple[float, Dict[str, Any]]:
    """The lowest calibrated top-probability bar whose 'sure' answers (accepted photos at or above it) are right at
    least `precision_target` of the time: precision first, since a confident wrong answer is the costly mistake.
    Reports whether `share_target` of all photos is answered sure at that bar."""
    top = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    candidates = sorted(set(np.round(top[accepted], 6).tolist()))
    chosen: Optional[float] = None
    for bar in candidates:
        sure = accepted & (top >= bar)
        if sure.sum() > 0 and right[sure].mean() >= precision_target:
            chosen = bar
            break
    if chosen is None:
        chosen = float(max(candidates)) if candidates else 1.0
    sure = accepted & (top >= chosen)
    report = {"sure": int(sure.sum()), "right": int(right[sure].sum()), "photos": int(len(labels)),
              "precision": float(right[sure].mean()) if sure.sum() else None, "share": float(sure.mean()),
              "precision_target": precision_target, "share_target": share_target,
              "both_met": bool(sure.sum() and right[sure].mean() >= precision_target and sure.mean() >= share_target),
              "favoured": "precision"}
    return float(chosen), report


def fit_domain(train_features: np.ndarray, train_labels: np.ndarray, val_features: np.ndarray,
               val_logits: np.ndarray, val_labels: np.ndarray, classes: int, *, score: str = "relative_mahalanobis",
               val_refusal: float = 0.05, precision_target: float = 0.98, share_target: float = 0.85,
               shrinkage: Optional[float] = None) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The four optional head fields and a report of how they were set (numbers for the docs)."""
    if score not in OPEN_SET_SCORES:
        raise DomainError(f"unknown open-set score {score!r}")
    means, counts, scatter = class_statistics(train_features, train_labels, classes)
    if shrinkage is None:
        x = l2_normalize(train_features)
        centred = x - means[np.asarray(train_labels)]
        shrinkage = ledoit_wolf_shrinkage(centred)
    statistics = {"feature_norm": FEATURE_NORM, "class_means": means.tolist(), "class_counts": counts.tolist(),
                  "scatter": scatter.tolist(), "shrinkage": round(float(shrinkage), 6)}
    val_scores = open_set_scores(statistics, val_features, score)
    threshold = threshold_at_refusal(val_scores, val_refusal)
    # How far in-domain photos the statistics never saw lie from their nearest class (plain d²): the yardstick of a
    # class taught on the phone (its spread, docs/model-contract.md).
    reference_d2 = float(np.mean(open_set_scores(statistics, val_features, "mahalanobis")))
    accepted = val_scores <= threshold
    temperature = fit_temperature(val_logits, val_labels)
    calibrated = softmax(val_logits, temperature)
    min_probability, sure = fit_min_probability(calibrated, np.asarray(val_labels), accepted, precision_target, share_target)
    open_set = {"score": score, "threshold": float(threshold), "reference_d2": reference_d2}
    teach = None
    if score == "mahalanobis" and classes > 2:  # a multiplicative margin needs positive scores and ≥ 2 classes left
        margin, teach = fit_teach_margin(cls_held_out_scores(train_features, train_labels, val_features, val_labels),
                                         classes, val_refusal)
        open_set["teach_margin"] = round(margin, 6)
    fields = {"statistics": statistics, "calibration": {"temperature": round(temperature, 6)},
              "open_set": open_set, "confidence": {"min_probability": min_probability}}
    report = {"train_photos": int(counts.sum()), "val_photos": int(len(val_labels)), "shrinkage": shrinkage,
              "temperature": temperature, "threshold": threshold, "reference_d2": reference_d2, "val_refused": float(1 - accepted.mean()),
              "ece_before": expected_calibration_error(softmax(val_logits), np.asarray(val_labels)),
              "ece_after": expected_calibration_error(calibrated, np.asarray(val_labels)),
              "nll_before": nll(val_logits, np.asarray(val_labels)), "nll_after": nll(val_logits, np.asarray(val_labels), temperature),
              "sure": sure, **({"teach_margin": teach} if teach else {})}
    return fields, report


def round_fields(fields: Dict[str, Any], digits: int = 8) -> Dict[str, Any]:
    """Numbers to `digits` significant digits (about float32), keeping the scatter exactly symmetric."""
    def r(v: float) -> float:
        return float(f"{v:.{digits}g}")
    stats = fields["statistics"]
    out = dict(fields)
    out["statistics"] = {**stats, "class_means": [[r(v) for v in row] for row in stats["class_means"]],
                         "scatter": [[r(v) for v in row] for row in stats["scatter"]]}
    return out


def validate_domain_fields(head: Dict[str, Any]) -> None:
    """The contract's rules for the optional fields (the engine checks the same in src/engine/model/head.ts)."""
    classes, features = len(head["labels"]), head["features"]

    def finite_matrix(value: Any, rows: int, cols: int, what: str) -> np.ndarray:
        if not isinstance(value, list) or len(value) != rows or any(not isinstance(r, list) or len(r) != cols for r in value):
            raise DomainError(f"{what} must be {rows}×{cols}")
        if any(not isinstance(v, (int, float)) or isinstance(v, bool) for r in value for v in r):
            raise DomainError(f"{what} has a non-number")
        arr = np.asarray(value, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise DomainError(f"{what} has a non-finite number")
        return arr

    stats = head.get("statistics")
    if stats is not None:
        if stats.get("feature_norm") != FEATURE_NORM:
            raise DomainError("statistics.feature_norm must be 'l2'")
        finite_matrix(stats.get("class_means"), classes, features, "statistics.class_means")
        counts = stats.get("class_counts")
        if not isinstance(counts, list) or len(counts) != classes or any(not isinstance(c, int) or isinstance(c, bool) or c < 1 for c in counts):
            raise DomainError("statistics.class_counts must be C positive integers")
        if sum(counts) <= classes:
            raise DomainError("statistics need more photos than classes")
        scatter = finite_matrix(stats.get("scatter"), features, features, "statistics.scatter")
        if not np.allclose(scatter, scatter.T, rtol=1e-6, atol=1e-12):
            raise DomainError("statistics.scatter is not symmetric")
        lam = stats.get("shrinkage")
        if not isinstance(lam, (int, float)) or not 0 <= lam < 1:
            raise DomainError("statistics.shrinkage must be in [0, 1)")
        precision_of(shrunk_covariance(scatter, sum(counts) - classes, lam))
    calibration = head.get("calibration")
    if calibration is not None:
        t = calibration.get("temperature") if isinstance(calibration, dict) else None
        if not isinstance(t, (int, float)) or not math.isfinite(t) or t <= 0:
            raise DomainError("calibration.temperature must be a positive number")
    confidence = head.get("confidence")
    if confidence is not None:
        p = confidence.get("min_probability") if isinstance(confidence, dict) else None
        if not isinstance(p, (int, float)) or not 0 < p <= 1:
            raise DomainError("confidence.min_probability must be in (0, 1]")
    if head.get("layer_statistics") is not None:
        decode_layer_statistics(head["layer_statistics"])
    open_set = head.get("open_set")
    if open_set is not None:
        if stats is None:
            raise DomainError("open_set needs statistics")
        if not isinstance(open_set, dict) or open_set.get("score") not in OPEN_SET_SCORES:
            raise DomainError(f"open_set.score must be one of {OPEN_SET_SCORES}")
        th = open_set.get("threshold")
        if not isinstance(th, (int, float)) or not math.isfinite(th):
            raise DomainError("open_set.threshold must be a finite number")
        scale = open_set.get("class_scale")
        if scale is not None and (not isinstance(scale, list) or len(scale) != len(stats["class_counts"]) or not all(
                isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in scale)):
            raise DomainError(f"open_set.class_scale must be {len(stats['class_counts'])} finite positive numbers (one per class)")
        ref = open_set.get("reference_d2")
        if ref is not None and (not isinstance(ref, (int, float)) or isinstance(ref, bool) or not math.isfinite(ref) or ref <= 0):
            raise DomainError("open_set.reference_d2 must be a finite positive number")
        validate_teach_margin(open_set, "open_set")
        if open_set["score"] == "relative_mahalanobis":
            open_set_scores(stats, np.zeros((1, features)) + 1.0, "relative_mahalanobis")
