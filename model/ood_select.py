"""Choosing the open-set rule on a DEVELOPMENT set, never on the committed test set (test/fixtures/ood).

    npm run eval:domain -- --dump .work/domain/features.json --splits train,val
    npm run eval:domain -- --dump .work/domain/dev.json --ood .work/devood --data .work/lowres --splits val,ood
    npm run eval:domain -- --dump .work/domain/test.json --splits val,ood
    bash scripts/python.sh model/ood_select.py .work/domain/features.json .work/domain/dev.json --test .work/domain/test.json

The dev dump holds out-of-domain photos from other sources than the test set (its folder must have non-leaf/ and
other-leaf/) and, as its "val" split, copies of the val photos downscaled to at most 200 px: out-of-domain previews
are small, and a rule that refuses small photos rather than foreign leaves would look good for the wrong reason.
Every score is fitted on the train photos only; every threshold is set on the val photos (in domain) only; the dev
photos only compare candidates.

With layer_features in both dumps (graphs with that output), Fisher combinations over intermediate blocks
(model/layers.py, LAYER_CANDIDATES) are compared too. The rule that picks among them was written down before
the dev set was scored (RULE): at the 4 % val refusal setting, among candidates refusing ≥ 95 % of the dev
non-leaf photos and ≤ 10 % of the low-res val copies, the one refusing the most dev other leaves; a tie keeps the
candidate with fewer rows (a smaller head), then the shipped CLS score. The test set is scored once, afterwards
(--test), for the chosen and the shipped rule.
The dev set is rebuilt by model/devood.py. Writes docs/bench/ood-selection.json and the table between the `ood:selection`
markers of docs/benchmarks.md."""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from typing import Callable, Dict, List

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from model.layers import fit_layer_statistics, layer_scores, log_normal_sf, row_log_p  # noqa: E402
from model.domain import (class_statistics, ledoit_wolf_shrinkage, l2_normalize, open_set_scores,  # noqa: E402
                          threshold_at_refusal)

REFUSAL_SWEEP = (0.02, 0.03, 0.04, 0.05)
LAYER_WIDTH = 192  # D of the shipped DeiT-tiny (embed_dim); --width overrides
LAYERS = 12
# Candidate row sets of `layer_features` (row l: block l's CLS token; row L + l: block l's mean patch token),
# written down before the dev set was scored. "lead" is last session's scratch result (blocks 5–6 patch mean,
# 9–11 CLS); the others bracket it.
LAYER_CANDIDATES = {
    "fisher: lead (patch 5-6, CLS 9-11)": [LAYERS + 5, LAYERS + 6, 9, 10, 11],
    "fisher: patch 5-6 only": [LAYERS + 5, LAYERS + 6],
    "fisher: CLS 9-11 only": [9, 10, 11],
    "fisher: patch 3-8": [LAYERS + b for b in range(3, 9)],
    "fisher: all 24 rows": list(range(2 * LAYERS)),
}
# Second round (2026-12-01, written before the rebuilt dev set was scored): the lead rows joined with the
# class-conditional CLS distance (the `mahalanobis` score, whose own Gaussians are per class), and Tippett's
# combination (the smallest p-value) in place of Fisher's sum, which lets one strongly foreign block decide.
LEAD_ROWS = LAYER_CANDIDATES["fisher: lead (patch 5-6, CLS 9-11)"]
JOINT_CANDIDATES = {
    "fisher: lead + class CLS": ("fisher", LEAD_ROWS, True),
    "tippett: lead": ("tippett", LEAD_ROWS, False),
    "tippett: lead + class CLS": ("tippett", LEAD_ROWS, True),
}
# The rule the shipped head carries (public/models/*/head.json layer_statistics rows 17, 18, 9, 10, 11).
SHIPPED = "fisher: lead (patch 5-6, CLS 9-11)"
MARK_BEGIN, MARK_END = "<!-- ood:selection -->", "<!-- /ood:selection -->"


def auroc(in_domain: np.ndarray, out: np.ndarray) -> float:
    """P(an out-of-domain score is above an in-domain one), ties counted half."""
    a, b = np.asarray(in_domain)[None, :], np.asarray(out)[:, None]
    return float((b > a).mean() + 0.5 * (b == a).mean())


def load(path: str) -> Dict[str, np.ndarray]:
    with open(path, encoding="utf-8") as f:
        photos = json.load(f)["photos"]
    groups: Dict[str, List[dict]] = {}
    for p in photos:
        groups.setdefault(p["kind"] if p["split"] == "ood" else p["split"], []).append(p)
    out = {k: np.asarray([p["features"] for p in v], dtype=np.float64) for k, v in groups.items()}
    out.update({f"{k}_labels": np.asarray([p["label"] for p in v]) for k, v in groups.items()})
    if all("layerFeatures" in p for p in photos):  # the graphs' optional layer_features, [2L, D] per photo
        for k, v in groups.items():
            flat = np.asarray([p["layerFeatures"] for p in v], dtype=np.float64)
            out[f"{k}_layers"] = flat.reshape(len(v), -1, LAYER_WIDTH)
    return out


def candidates(train: np.ndarray, labels: np.ndarray) -> Dict[str, Callable[[np.ndarray], np.ndarray]]:
    classes = int(labels.max()) + 1
    means, counts, scatter = class_statistics(train, labels, classes)
    shrinkage = ledoit_wolf_shrinkage(l2_normalize(train) - means[labels])
    stats = {"class_means": means, "class_counts": counts, "scatter": scatter, "shrinkage": shrinkage}
    bank = l2_normalize(train)

    def knn(x: np.ndarray, k: int = 5) -> np.ndarray:
        sims = np.sort(l2_normalize(x) @ bank.T, axis=1)
        return -sims[:, -k:].mean(axis=1)

    scorers: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "mahalanobis": lambda x: open_set_scores(stats, x, "mahalanobis"),
        "relative_mahalanobis": lambda x: open_set_scores(stats, x, "relative_mahalanobis"),
        "5-NN cosine": knn,
    }
    return scorers


def layer_candidates(train_layers: np.ndarray) -> Dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Fisher's combination over rows of layer_features (model/layers.py), fitted on the train photos."""
    out = {}
    for name, rows in LAYER_CANDIDATES.items():
        stats = fit_layer_statistics(train_layers, rows, LAYERS)
        out[name] = (lambda s: lambda x: layer_scores(s, x))(stats)
    return out


def joint_candidates(train: np.ndarray, labels: np.ndarray, train_layers: np.ndarray
                     ) -> Dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]:
    """JOINT_CANDIDATES as scores of (features, layer_features): each term a log p-value from the normal fit of its
    log d² on the train photos (the class CLS term's d² is the `mahalanobis` score: the nearest class)."""
    cls_score = candidates(train, labels)["mahalanobis"]
    cls_log = np.log(np.maximum(cls_score(train), 1e-12))
    cls_fit = (float(cls_log.mean()), float(cls_log.std(ddof=1)))
    stats = fit_layer_statistics(train_layers, LEAD_ROWS, LAYERS)

    def log_p(features: np.ndarray, layers: np.ndarray, with_cls: bool) -> np.ndarray:
        rows = row_log_p(stats, layers)
        if not with_cls:
            return rows
        z_cls = (np.log(np.maximum(cls_score(features), 1e-12)) - cls_fit[0]) / cls_fit[1]
        return np.concatenate([rows, log_normal_sf(z_cls)[:, None]], axis=1)

    out = {}
    for name, (method, _, with_cls) in JOINT_CANDIDATES.items():
        if method == "fisher":
            out[name] = (lambda c: lambda f, l: -2.0 * log_p(f, l, c).sum(axis=1))(with_cls)
        else:
            out[name] = (lambda c: lambda f, l: -log_p(f, l, c).min(axis=1))(with_cls)
    return out


Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (features, layer_features or None) → scores


def all_candidates(main: Dict[str, np.ndarray], with_layers: bool) -> Dict[str, Scorer]:
    """Every candidate, fitted on main's train photos, as a score of (features, layer_features)."""
    out: Dict[str, Scorer] = {name: (lambda sc: lambda f, _l: sc(f))(score)
                              for name, score in candidates(main["train"], main["train_labels"]).items()}
    if with_layers and "train_layers" in main:
        out.update({name: (lambda sc: lambda _f, l: sc(l))(score) for name, score in layer_candidates(main["train_layers"]).items()})
        out.update(joint_candidates(main["train"], main["train_labels"], main["train_layers"]))
    return out


def scored(scorer: Scorer, records: Dict[str, np.ndarray], key: str) -> np.ndarray:
    return scorer(records[key], records.get(key + "_layers"))


def select(main: Dict[str, np.ndarray], dev: Dict[str, np.ndarray]) -> Dict[str, object]:
    sets_of = {"dev low-res val": "val", "dev non-leaf": "non-leaf", "dev other-leaf": "other-leaf"}
    rows = []
    for name, score in all_candidates(main, all(f"{k}_layers" in dev for k in sets_of.values())).items():
        val = scored(score, main, "val")
        sets = {label: scored(score, dev, key) for label, key in sets_of.items()}
        for rate in REFUSAL_SWEEP:
            threshold = threshold_at_refusal(val, rate)
            rows.append({"score": name, "val_refusal_setting": rate, "val_refused": float((val > threshold).mean()),
                         "refused": {k: float((v > threshold).mean()) for k, v in sets.items()},
                         "auroc": {k: auroc(val, v) for k, v in sets.items() if k != "dev low-res val"}})
    return {"photos": {"train": int(len(main["train"])), "val": int(len(main["val"])),
                       **{f"dev {k}": int(len(dev[k])) for k in ("val", "non-leaf", "other-leaf")}}, "rows": rows}


def score_test_once(main: Dict[str, np.ndarray], test: Dict[str, np.ndarray], names: List[str]) -> Dict[str, dict]:
    """The committed test set (test/fixtures/ood), scored after the choice: refusal at RULE's val setting."""
    scorers = all_candidates(main, "non-leaf_layers" in test)
    out = {}
    for name in dict.fromkeys(names):
        threshold = threshold_at_refusal(scored(scorers[name], main, "val"), RULE["val_refusal_setting"])
        out[name] = {k: float((scored(scorers[name], test, k) > threshold).mean()) for k in ("non-leaf", "other-leaf")}
    return out


RULE = {"val_refusal_setting": 0.04, "min_dev_non_leaf_refused": 0.95, "max_dev_low_res_val_refused": 0.10}


def row_count(name: str) -> int:
    if name in JOINT_CANDIDATES:
        _, rows, with_cls = JOINT_CANDIDATES[name]
        return len(rows) + int(with_cls)
    return len(LAYER_CANDIDATES.get(name, [])) or 1


def choose(rows: List[dict]) -> str:
    """RULE applied to the table's rows: the name of the chosen score."""
    eligible = [r for r in rows if abs(r["val_refusal_setting"] - RULE["val_refusal_setting"]) < 1e-9
                and r["refused"]["dev non-leaf"] >= RULE["min_dev_non_leaf_refused"]
                and r["refused"]["dev low-res val"] <= RULE["max_dev_low_res_val_refused"]]
    if not eligible:
        return "mahalanobis"
    best = max(eligible, key=lambda r: (round(r["refused"]["dev other-leaf"], 9), -row_count(r["score"]), r["score"] == "mahalanobis"))
    return best["score"]


def table(report: Dict[str, object]) -> str:
    n = report["photos"]
    lines = [f"Fitted on {n['train']} train photos, thresholds on {n['val']} val photos; compared on the dev set: "
             f"{n['dev other-leaf']} other-crop leaves, {n['dev non-leaf']} non-leaf photos, {n['dev val']} val photos downscaled "
             "to ≤ 200 px (in domain: should stay accepted).", "",
             "| score | val refusal set | val refused | dev low-res val refused | dev non-leaf refused | dev other leaves refused | AUROC non-leaf / other leaves |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    pct = lambda v: f"{v * 100:.1f} %"  # noqa: E731
    for r in report["rows"]:
        ref, auc = r["refused"], r["auroc"]
        lines.append(f"| {r['score']} | {r['val_refusal_setting'] * 100:.0f} % | {pct(r['val_refused'])} | {pct(ref['dev low-res val'])} | "
                     f"{pct(ref['dev non-leaf'])} | {pct(ref['dev other-leaf'])} | {auc['dev non-leaf']:.3f} / {auc['dev other-leaf']:.3f} |")
    if report.get("chosen"):
        lines += ["", f"Chosen by the pre-registered rule (4 % val refusal; dev non-leaf ≥ 95 %, low-res val ≤ 10 %; most dev "
                      f"other leaves, ties to fewer rows): **{report['chosen']}**."]
    if report.get("test_once"):
        scored_once = "; ".join(f"{name}: non-leaf {pct(v['non-leaf'])}, other leaves {pct(v['other-leaf'])}"
                                for name, v in report["test_once"].items())
        lines += ["", f"The committed test set (test/fixtures/ood), scored once after the choice, at the same val setting: {scored_once}."]
    lines += ["", f"Written by `model/ood_select.py` ({report['created'][:10]})."]
    return "\n".join(lines)


def write_docs(path: str, text: str) -> None:
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    begin, end = doc.find(MARK_BEGIN), doc.find(MARK_END)
    if begin < 0 or end < begin:
        raise SystemExit(f"{path} has no {MARK_BEGIN} … {MARK_END} section")
    with open(path, "w", encoding="utf-8") as f:
        f.write(doc[: begin + len(MARK_BEGIN)] + "\n" + text + "\n" + doc[end:])


def main(argv: List[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("records", help="eval:domain --dump with train and val")
    p.add_argument("dev", help="eval:domain --dump of the dev set (val = downscaled val copies, ood = dev photos)")
    p.add_argument("--json", default="docs/bench/ood-selection.json")
    p.add_argument("--docs", default="docs/benchmarks.md")
    p.add_argument("--no-docs", action="store_true")
    p.add_argument("--test", help="eval:domain --dump of the committed test set (--splits val,ood): scored once, after "
                   "the choice, for the chosen and the shipped rule")
    args = p.parse_args(argv)
    main_records = load(args.records)
    report = select(main_records, load(args.dev))
    report["chosen"] = choose(report["rows"])
    if args.test:
        report["test_once"] = score_test_once(main_records, load(args.test), [report["chosen"], SHIPPED])
    report = {"kind": "ood-selection", "created": datetime.now(timezone.utc).isoformat(), **report}
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    text = table(report)
    print(text)
    if not args.no_docs:
        write_docs(args.docs, text)


if __name__ == "__main__":
    main()
