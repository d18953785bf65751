"""model/ood_select.py: the dev-set comparison that chose the open-set rule (synthetic features, no photos)."""
import numpy as np

from model.ood_select import REFUSAL_SWEEP, auroc, select, table


def test_auroc_counts_ties_half_and_orders():
    assert auroc(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 1.0
    assert auroc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 0.0
    assert auroc(np.array([1.0]), np.array([1.0])) == 0.5


def _features(rng, centre, n, spread=0.05):
    return centre + spread * rng.standard_normal((n, centre.size))


def test_select_refuses_far_photos_and_keeps_in_domain_ones():
    rng = np.random.default_rng(0)
    f = 8
    centres = [np.eye(f)[c] for c in range(3)]
    train = np.concatenate([_features(rng, c, 60) for c in centres])
    labels = np.repeat(np.arange(3), 60)
    val = np.concatenate([_features(rng, c, 30) for c in centres])
    far = np.eye(f)[5]
    main = {"train": train, "train_labels": labels, "val": val}
    dev = {"val": np.concatenate([_features(rng, c, 10) for c in centres]), "non-leaf": _features(rng, far, 12),
           "other-leaf": _features(rng, 0.5 * far + 0.5 * np.eye(f)[0], 12)}
    report = select(main, dev)
    rows = report["rows"]
    assert len(rows) == 3 * len(REFUSAL_SWEEP)
    for row in rows:
        # The threshold is set on val alone: at most the asked share of val refused.
        assert row["val_refused"] <= row["val_refusal_setting"] + 1e-9
    maha = [r for r in rows if r["score"] == "mahalanobis"]
    assert all(r["refused"]["dev non-leaf"] == 1.0 for r in maha)
    assert all(r["auroc"]["dev other-leaf"] > 0.99 for r in maha)
    text = table({**report, "created": "2026-12-01T00:00:00Z"})
    assert "| mahalanobis | 4 % |" in text and "dev other leaves refused" in text


def test_the_pre_registered_rule_picks_the_most_other_leaves_among_eligible_rows() -> None:
    from model.ood_select import choose

    def row(score: str, setting: float, other: float, non_leaf: float = 1.0, low_res: float = 0.03) -> dict:
        return {"score": score, "val_refusal_setting": setting,
                "refused": {"dev other-leaf": other, "dev non-leaf": non_leaf, "dev low-res val": low_res}}

    lead, patches = "fisher: lead (patch 5-6, CLS 9-11)", "fisher: patch 5-6 only"
    rows = [row("mahalanobis", 0.04, 0.79), row(lead, 0.04, 0.90), row(patches, 0.04, 0.88),
            row("fisher: all 24 rows", 0.05, 0.99)]                       # other settings do not count
    assert choose(rows) == lead
    assert choose(rows + [row("fisher: all 24 rows", 0.04, 0.97, non_leaf=0.90)]) == lead   # too few non-leaves
    assert choose(rows + [row("fisher: all 24 rows", 0.04, 0.97, low_res=0.2)]) == lead     # refuses small photos
    assert choose([row(lead, 0.04, 0.9), row(patches, 0.04, 0.9)]) == patches              # a tie: fewer rows
    assert choose([row(lead, 0.04, 0.99, non_leaf=0.5)]) == "mahalanobis"                  # none eligible


def test_joint_candidates_add_the_class_cls_term_to_the_layer_rows() -> None:
    """A photo typical in every block but lying between the classes' CLS means: only the joint scores see it."""
    from model.ood_select import JOINT_CANDIDATES, LAYER_WIDTH, LAYERS

    rng = np.random.default_rng(1)
    f = 8
    centres = [np.eye(f)[c] for c in range(3)]

    def layers(n):  # class-agnostic block outputs: one Gaussian for every photo
        return 1.0 + 0.05 * rng.standard_normal((n, 2 * LAYERS, LAYER_WIDTH))

    train = np.concatenate([_features(rng, c, 80) for c in centres])
    main = {"train": train, "train_labels": np.repeat(np.arange(3), 80), "train_layers": layers(240),
            "val": np.concatenate([_features(rng, c, 30) for c in centres]), "val_layers": layers(90)}
    between = _features(rng, (centres[0] + centres[1]) / 2, 20)
    dev = {"val": main["val"][:30], "val_layers": layers(30), "non-leaf": _features(rng, np.eye(f)[5], 12),
           "non-leaf_layers": layers(12) * np.where(np.arange(LAYER_WIDTH) % 2, 1.0, -1.0), "other-leaf": between, "other-leaf_layers": layers(20)}
    rows = select(main, dev)["rows"]
    assert {r["score"] for r in rows} >= set(JOINT_CANDIDATES)
    at = {r["score"]: r for r in rows if r["val_refusal_setting"] == 0.04}
    for name in JOINT_CANDIDATES:
        assert at[name]["val_refused"] <= 0.04 + 1e-9
    assert at["fisher: lead (patch 5-6, CLS 9-11)"]["refused"]["dev other-leaf"] < 0.5
    assert at["fisher: lead + class CLS"]["refused"]["dev other-leaf"] == 1.0
    assert at["tippett: lead + class CLS"]["refused"]["dev other-leaf"] == 1.0
    assert at["tippett: lead"]["refused"]["dev non-leaf"] == 1.0

    # The test set is scored once, for the named rules only, at the val setting of the pre-registered rule.
    from model.ood_select import score_test_once
    once = score_test_once(main, dev, ["fisher: lead + class CLS", "fisher: lead (patch 5-6, CLS 9-11)"])
    assert list(once) == ["fisher: lead + class CLS", "fisher: lead (patch 5-6, CLS 9-11)"]
    assert once["fisher: lead + class CLS"]["other-leaf"] == 1.0
    assert once["fisher: lead (patch 5-6, CLS 9-11)"]["other-leaf"] < 0.5
