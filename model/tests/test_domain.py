"""model/domain.py: fitting the optional head fields, and refusing broken ones (the Python side of the contract's
"Knowing when it does not know"; the engine's side is test/engine/contract.test.ts and domain.test.ts)."""
from __future__ import annotations

import copy
import json
import math
import os

import numpy as np
import pytest

from model.domain import (DomainError, class_statistics, cls_held_out_scores, expected_calibration_error, fit_domain,
                          fit_teach_margin, fit_temperature,
                          l2_normalize, ledoit_wolf_shrinkage, nll, open_set_scores, open_set_threshold_scale, round_fields, shrunk_covariance,
                          softmax, taught_class_scale, taught_class_spread, threshold_at_refusal, validate_domain_fields)

C, F = 3, 6


def synthetic(n_per_class: int, seed: int, scale: float = 3.0):
    """Features around class centres, logits = scaled distances (a made-up test fixture, not a model)."""
    rng = np.random.default_rng(seed)
    centres = np.eye(C, F) * 4 + 1
    labels = np.repeat(np.arange(C), n_per_class)
    feats = centres[labels] + rng.normal(0, 0.5, (len(labels), F))
    logits = scale * l2_normalize(feats) @ l2_normalize(centres).T
    return feats, logits, labels


def head_with(fields):
    return {"labels": ["a", "b", "c"], "features": F, **fields}


def test_statistics_match_a_direct_computation():
    feats, _, labels = synthetic(20, 0)
    means, counts, scatter = class_statistics(feats, labels, C)
    x = l2_normalize(feats)
    assert counts.tolist() == [20, 20, 20]
    for c in range(C):
        np.testing.assert_allclose(means[c], x[labels == c].mean(axis=0), atol=1e-12)
    pooled = sum(np.cov(x[labels == c].T, bias=True) * 20 for c in range(C))
    np.testing.assert_allclose(scatter, pooled, atol=1e-12)


def test_mahalanobis_scores_match_a_plain_inverse():
    feats, _, labels = synthetic(20, 1)
    means, counts, scatter = class_statistics(feats, labels, C)
    stats = {"class_means": means, "class_counts": counts, "scatter": scatter, "shrinkage": 0.1}
    probe = np.array([[1.0, 2.0, 0.5, 3.0, 0.1, 1.0]])
    precision = np.linalg.inv(shrunk_covariance(scatter, counts.sum() - C, 0.1))
    x = l2_normalize(probe)[0]
    want = min((x - m) @ precision @ (x - m) for m in means)
    assert open_set_scores(stats, probe, "mahalanobis")[0] == pytest.approx(want, rel=1e-9)


def test_ledoit_wolf_shrinkage_is_small_for_plenty_of_data_and_larger_for_little():
    rng = np.random.default_rng(2)
    scales = np.linspace(0.2, 3.0, F)  # far from isotropic: shrinking toward (trace/F)·I costs with much data
    many = rng.normal(size=(2000, F)) * scales
    few = rng.normal(size=(8, F)) * scales
    assert 0 <= ledoit_wolf_shrinkage(many - many.mean(0)) < ledoit_wolf_shrinkage(few - few.mean(0)) <= 1


def test_temperature_recovers_a_known_scale():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, (4000, C))
    # Labels drawn from softmax(logits / 2): the NLL-optimal temperature is 2.
    labels = np.array([rng.choice(C, p=p) for p in softmax(logits, 2.0)])
    t = fit_temperature(logits, labels)
    assert t == pytest.approx(2.0, rel=0.1)
    assert nll(logits, labels, t) <= nll(logits, labels, 1.0)


def test_ece_of_a_perfectly_calibrated_and_an_overconfident_model():
    p = np.array([[0.9, 0.1]] * 10)
    assert expected_calibration_error(p, np.array([0] * 9 + [1])) == pytest.approx(0.0, abs=1e-12)
    assert expected_calibration_error(p, np.array([0] * 5 + [1] * 5)) == pytest.approx(0.4)


def test_threshold_refuses_at_most_the_rate():
    scores = np.arange(100.0)
    th = threshold_at_refusal(scores, 0.05)
    assert (scores > th).mean() <= 0.05 and (scores > th).mean() >= 0.04


def test_fit_domain_refuses_far_points_and_keeps_its_own():
    tr_x, _, tr_y = synthetic(40, 4)
    va_x, va_logits, va_y = synthetic(30, 5)
    fields, report = fit_domain(tr_x, tr_y, va_x, va_logits, va_y, C, val_refusal=0.05)
    validate_domain_fields(head_with(round_fields(fields)))
    assert report["val_refused"] <= 0.05
    far = np.random.default_rng(6).normal(0, 1, (50, F)) - 3
    assert (open_set_scores(fields["statistics"], far, "mahalanobis") > fields["open_set"]["threshold"]).mean() > 0.9
    # The reference d² is the val photos' mean plain score, from the same statistics.
    val_d2 = open_set_scores(fields["statistics"], va_x, "mahalanobis")
    assert fields["open_set"]["reference_d2"] == pytest.approx(val_d2.mean(), rel=1e-12)
    assert 0 < fields["confidence"]["min_probability"] <= 1
    assert report["sure"]["favoured"] == "precision"
    if report["sure"]["sure"]:
        assert report["sure"]["precision"] >= 0.98


def test_teach_margin_lets_a_class_the_statistics_never_saw_be_taught():
    """Each class left out in turn plays the new disease: most of its photos lie beyond the threshold the other
    classes' val photos set, and the margin brings them back to at most 10 % refused, for every class."""
    tr_x, _, tr_y = synthetic(60, 11)
    va_x, va_logits, va_y = synthetic(40, 12)
    margin, report = fit_teach_margin(cls_held_out_scores(tr_x, tr_y, va_x, va_y), C, 0.04)
    assert margin > 1
    for entry in report["left_out"]:
        assert entry["refused_at_threshold"] > 0.5
        assert entry["refused_at_margin"] <= 0.10
    # The smallest such margin: a little less refuses more than 10 % of some class.
    _, tighter = fit_teach_margin(cls_held_out_scores(tr_x, tr_y, va_x, va_y), C, 0.04, max_refused=0.0)
    assert tighter["margin"] >= margin
    fields, fit_report = fit_domain(tr_x, tr_y, va_x, va_logits, va_y, C, score="mahalanobis", val_refusal=0.04)
    assert fields["open_set"]["teach_margin"] == pytest.approx(margin, rel=1e-6)
    assert fit_report["teach_margin"]["margin"] == pytest.approx(margin)
    validate_domain_fields(head_with(round_fields(fields)))
    # relative_mahalanobis scores can be negative: no multiplicative margin for them.
    relative, _ = fit_domain(tr_x, tr_y, va_x, va_logits, va_y, C, score="relative_mahalanobis")
    assert "teach_margin" not in relative["open_set"]
    with pytest.raises(DomainError, match="positive threshold"):
        fit_teach_margin(lambda h: (np.array([-2.0, -1.0]), np.array([0.5])), 2, 0.04)


def test_rounded_scatter_stays_symmetric():
    tr_x, _, tr_y = synthetic(40, 7)
    va_x, va_logits, va_y = synthetic(10, 8)
    fields, _ = fit_domain(tr_x, tr_y, va_x, va_logits, va_y, C)
    s = np.asarray(round_fields(fields)["statistics"]["scatter"])
    assert np.array_equal(s, s.T)


def _valid_fields():
    tr_x, _, tr_y = synthetic(40, 9)
    va_x, va_logits, va_y = synthetic(10, 10)
    fields = round_fields(fit_domain(tr_x, tr_y, va_x, va_logits, va_y, C, score="mahalanobis")[0])
    assert fields["open_set"]["teach_margin"] >= 1
    return fields


BROKEN = {
    "class_means with a missing class": lambda h: h["statistics"]["class_means"].pop(),
    "a NaN in the scatter": lambda h: h["statistics"]["scatter"][1].__setitem__(1, math.nan),
    "an asymmetric scatter": lambda h: h["statistics"]["scatter"][0].__setitem__(3, 5.0),
    "a short scatter row": lambda h: h["statistics"]["scatter"].__setitem__(2, [1.0]),
    "a negative-definite scatter": lambda h: h["statistics"].__setitem__("scatter", (-np.eye(F)).tolist()),
    "a fractional count": lambda h: h["statistics"]["class_counts"].__setitem__(0, 2.5),
    "shrinkage 1": lambda h: h["statistics"].__setitem__("shrinkage", 1.0),
    "a zero temperature": lambda h: h.__setitem__("calibration", {"temperature": 0}),
    "an unknown score": lambda h: h.__setitem__("open_set", {"score": "energy", "threshold": 1.0}),
    "an infinite threshold": lambda h: h["open_set"].__setitem__("threshold", math.inf),
    "open_set without statistics": lambda h: h.pop("statistics"),
    "min_probability above 1": lambda h: h.__setitem__("confidence", {"min_probability": 1.5}),
    "a teach margin below 1": lambda h: h["open_set"].__setitem__("teach_margin", 0.9),
    "a NaN teach margin": lambda h: h["open_set"].__setitem__("teach_margin", math.nan),
    "a teach margin as text": lambda h: h["open_set"].__setitem__("teach_margin", "2"),
    "a teach margin on a negative threshold": lambda h: h["open_set"].__setitem__("threshold", -1.0),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_fields_are_refused(name):
    head = head_with(copy.deepcopy(_valid_fields()))
    BROKEN[name](head)
    with pytest.raises(DomainError):
        validate_domain_fields(head)


def test_a_head_without_the_fields_is_valid():
    validate_domain_fields(head_with({}))


def test_class_scale_is_validated():
    """open_set.class_scale, when present, is one finite positive number per class; anything else is refused."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "test", "fixtures", "teach", "threshold-pair.json"), encoding="utf-8") as f:
        taught = json.load(f)["taught"]
    for bad in ([1, 1, 1], [1, 1, 1, 0], [1, 1, 1, float("nan")], "1.1"):
        with pytest.raises(DomainError, match="class_scale"):
            validate_domain_fields({**taught, "open_set": {**taught["open_set"], "class_scale": bad}})
    for bad in (0, -1.0, float("nan"), "3", True):
        with pytest.raises(DomainError, match="reference_d2"):
            validate_domain_fields({**taught, "open_set": {**taught["open_set"], "reference_d2": bad}})


def test_taught_head_threshold_follows_the_contract_rule():
    """The engine's teachClass output (test/fixtures/teach/threshold-pair.json, a TEST FIXTURE) carries the threshold
    the contract gives: the base head's × tr(Σ_after⁻¹ Σ_before) / F, both covariances from the heads' statistics."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "test", "fixtures", "teach", "threshold-pair.json"), encoding="utf-8") as f:
        pair = json.load(f)
    base, taught = pair["base"], pair["taught"]
    for head in (base, taught):
        validate_domain_fields(head)
    r = open_set_threshold_scale(base["statistics"], taught["statistics"])
    assert r < 1  # the taught class's weighted scatter widened Σ
    assert taught["open_set"]["score"] == base["open_set"]["score"]
    assert taught["open_set"]["threshold"] == pytest.approx(base["open_set"]["threshold"] * r, rel=1e-6)
    assert open_set_threshold_scale(base["statistics"], base["statistics"]) == pytest.approx(1.0, rel=1e-12)
    # The reference d² moves with the threshold; the taught class's d² is divided by (1 + 1/n)·max(1, v), v its
    # spread measured on its photos under the taught head, the known classes' by 1; the engine's scores of the
    # probes under the taught head are what numpy gets with that rule.
    counts = taught["statistics"]["class_counts"]
    assert "class_scale" not in base["open_set"]
    assert taught["open_set"]["reference_d2"] == pytest.approx(base["open_set"]["reference_d2"] * r, rel=1e-6)
    spread = taught_class_spread(taught["statistics"], np.asarray(pair["taught_photos"]), taught["open_set"]["reference_d2"])
    assert spread > 1.2  # the fixture's taught class varies more than the known ones
    assert taught["open_set"]["class_scale"] == pytest.approx([1, 1, 1, taught_class_scale(counts[3], spread)], rel=1e-6)
    assert taught_class_scale(counts[3], 0.5) == pytest.approx(1 + 1 / counts[3])  # never stricter than 1 + 1/n
    probes = np.asarray(pair["probes"])
    got = open_set_scores(taught["statistics"], probes, "mahalanobis", taught["open_set"]["class_scale"])
    assert got == pytest.approx(pair["taught_scores"], rel=1e-6)
    unscaled = open_set_scores(taught["statistics"], probes, "mahalanobis")
    assert (got[:2] < unscaled[:2]).all()  # photos of the taught class score lower than without the scale
    # A covariance c times wider: every d² and so the threshold × 1/c.
    wider = {**base["statistics"], "scatter": (2.5 * np.asarray(base["statistics"]["scatter"])).tolist()}
    assert open_set_threshold_scale(base["statistics"], wider) == pytest.approx(1 / 2.5, rel=1e-9)
