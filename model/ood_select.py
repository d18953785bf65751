"""Choosing the open-set rule on a DEVELOPMENT set, never on the committed test set (test/fixtures/ood).

    npm run eval:domain -- --dump .work/domain/features.json --splits train,val
    npm run eval:domain -- --dump .work/domain/dev.json --ood .work/devood --data .work/lowres --splits val,ood
    bash scripts/python.sh model/ood_select.py .work/domain/features.json .work/domain/dev.json

The dev dump holds out-of-domain photos from other sources than the test set (its folder must have non-leaf/ and
other-leaf/) and, as its "val" split, copies of the val photos downscaled to at most 200 px: out-of-domain previews
are small, and a rule that refuses small photos rather than foreign leaves would look good for the wrong reason.
Every score is fitted on the train photos only; every threshold is set on the val photos (in domain) only; the dev
photos only compare candidates. Writes docs/bench/ood-selection.json and the table between the `ood:selection`
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
from model.domain import (class_statistics, ledoit_wolf_shrinkage, l2_normalize, open_set_scores,  # noqa: E402
                          threshold_at_refusal)

REFUSAL_SWEEP = (0.02, 0.03, 0.04, 0.05)
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

    return {
        "mahalanobis": lambda x: open_set_scores(stats, x, "mahalanobis"),
        "relative_mahalanobis": lambda x: open_set_scores(stats, x, "relative_mahalanobis"),
        "5-NN cosine": knn,
    }


def select(main: Dict[str, np.ndarray], dev: Dict[str, np.ndarray]) -> Dict[str, object]:
    scorers = candidates(main["train"], main["train_labels"])
    rows = []
    for name, score in scorers.items():
        val = score(main["val"])
        sets = {"dev low-res val": score(dev["val"]), "dev non-leaf": score(dev["non-leaf"]), "dev other-leaf": score(dev["other-leaf"])}
        for rate in REFUSAL_SWEEP:
            threshold = threshold_at_refusal(val, rate)
            rows.append({"score": name, "val_refusal_setting": rate, "val_refused": float((val > threshold).mean()),
                         "refused": {k: float((v > threshold).mean()) for k, v in sets.items()},
                         "auroc": {k: auroc(val, v) for k, v in sets.items() if k != "dev low-res val"}})
    return {"photos": {"train": int(len(main["train"])), "val": int(len(main["val"])),
                       **{f"dev {k}": int(len(dev[k])) for k in ("val", "non-leaf", "other-leaf")}}, "rows": rows}


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
    args = p.parse_args(argv)
    report = select(load(args.records), load(args.dev))
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
