"""Rebuilds the DEVELOPMENT out-of-domain set of model/ood_select.py (kept out of the repository, under .work/).

    bash scripts/python.sh model/devood.py --agml-git /work/.mirror/Project-AgML+AgML/repo \
        --non-leaf-from DIR_OF_EXTRACTED_PACKAGE_IMAGES --out .work/devood

other-leaf/: every framed tile of the AgML example grids (`docs/sample_images/*_examples.png` at commit
e42536772d2291a4eabbd456c2949e913e9e5aec, read with `git show` from a clone) of the leaf data sets that the
committed test set (test/fixtures/ood/SOURCES.md) does NOT use: DEV_GRIDS below. Each tile is cut inside its 1-px
frame (found as two dark horizontal runs joined by two dark vertical runs), without its caption.
non-leaf/: the images of --non-leaf-from (files named `<package>__<name>.<ext>`, e.g. extracted with `apt-get
download mate-backgrounds plasma-workspace-wallpapers ukui-wallpapers lomiri-wallpapers-16.04 python3-skimage` and
`dpkg -x`), minus every image the test set uses (TEST_NON_LEAF_STEMS). Licences vary (some are GPL, LGPL or
CC-BY-SA): these files never enter the repository.
lowres/val/: copies of the val photos (--val) downscaled to at most 200 px, the dev set's in-domain part
(`eval:domain --data .work/lowres --splits val,ood`): a rule must not simply refuse small photos.
Every out-of-domain file is downscaled to at most 256 px and saved as JPEG quality 85, as the test photos were.
"""
from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from typing import List, Tuple

import numpy as np
from PIL import Image

AGML_COMMIT = "e42536772d2291a4eabbd456c2949e913e9e5aec"
# Close-up leaf sets of AgML that are not in test/fixtures/ood (which uses banana, betel, blackgram, chilli, coconut,
# arabica coffee, cucumber, java plum, onion, orange, paddy, papaya, soybean insect, sunflower). Left out: the bean
# set (in domain), field/drone/fruit/flower detection grids.
DEV_GRIDS = ["corn_maize_leaf_disease", "guava_disease_pakistan", "mango_leaf_disease_classification",
             "plant_doc_classification", "rice_leaf_disease_classification", "tea_leaf_disease_classification",
             "tomato_leaf_disease", "vine_virus_photo_dataset"]
TEST_NON_LEAF_STEMS = {
    "lomiri__aitzgorri_by_Aitzol_Berasategi", "lomiri__friends_by_Aitzol_Berasategi", "lomiri__life_by_Aitzol_Berasategi",
    "lomiri__picosdeeuropa_by_Aitzol_Berasategi", "lomiri__Picture_0B_by_freespace", "lomiri__Picture_1A_by_freespace",
    "lomiri__seeding_by_Clements_Engelhardt", "lomiri__sunset_by_Aitzol_Berasategi", "lomiri__umang_by_Abhishek_Mudgal",
    "lomiri__Wine_by_Jakkub_Mede", "skimage__astronaut", "skimage__brick", "skimage__camera", "skimage__cell",
    "skimage__chelsea", "skimage__clock_motion", "skimage__coffee", "skimage__gravel", "skimage__horse",
    "skimage__hubble_deep_field", "skimage__microaneurysms", "skimage__retina", "skimage__rocket", "skimage__text",
}
MIN_TILE = 80      # px: a frame edge at least this long (captions and ticks are shorter)
DARK = 60          # max channel value of a frame pixel


def runs(mask_line: np.ndarray, min_len: int) -> List[Tuple[int, int]]:
    """[start, end) of every run of True at least min_len long."""
    padded = np.concatenate([[False], mask_line, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_len]


def framed_tiles(rgb: np.ndarray) -> List[Tuple[int, int, int, int]]:
    """(top, left, bottom, right) of every 1-px dark frame in a grid image, reading order."""
    dark = rgb.max(axis=2) < DARK
    segments = [(y, a, b) for y in range(dark.shape[0]) for a, b in runs(dark[y], MIN_TILE)]
    frames = []
    for i, (y1, a1, b1) in enumerate(segments):
        for y2, a2, b2 in segments[i + 1:]:
            if y2 - y1 < MIN_TILE or abs(a1 - a2) > 1 or abs(b1 - b2) > 1:
                continue
            left, right = dark[y1:y2 + 1, a1], dark[y1:y2 + 1, b1 - 1]
            if left.mean() > 0.97 and right.mean() > 0.97:
                frames.append((y1, a1, y2, b1 - 1))
                break
    # A tile's own dark content can form inner "frames": keep only frames not inside another one.
    outer = [f for f in frames if not any(g != f and g[0] <= f[0] and g[1] <= f[1] and g[2] >= f[2] and g[3] >= f[3]
                                          for g in frames)]
    return sorted(set(outer), key=lambda f: (f[0] // 20, f[1]))


def save_small(im: Image.Image, path: str) -> None:
    im = im.convert("RGB")
    im.thumbnail((256, 256), Image.LANCZOS)
    im.save(path, "JPEG", quality=85)


def build_other_leaf(agml_git: str, out: str) -> int:
    os.makedirs(out, exist_ok=True)
    count = 0
    for grid in DEV_GRIDS:
        data = subprocess.run(["git", f"--git-dir={agml_git}", "show", f"{AGML_COMMIT}:docs/sample_images/{grid}_examples.png"],
                              check=True, capture_output=True).stdout
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        tiles = framed_tiles(rgb)
        for k, (top, left, bottom, right) in enumerate(tiles, start=1):
            save_small(Image.fromarray(rgb[top + 1:bottom, left + 1:right]), os.path.join(out, f"agml-{grid}-{k:02d}.jpg"))
        print(f"{grid}: {len(tiles)} tiles")
        count += len(tiles)
    return count


def build_non_leaf(source: str, out: str) -> int:
    os.makedirs(out, exist_ok=True)
    count = 0
    for name in sorted(os.listdir(source)):
        stem, ext = os.path.splitext(name)
        if ext.lower() not in (".jpg", ".jpeg", ".png") or stem in TEST_NON_LEAF_STEMS:
            continue
        with Image.open(os.path.join(source, name)) as im:
            save_small(im, os.path.join(out, f"{stem}.jpg"))
        count += 1
    return count


def build_lowres_val(val: str, out: str) -> int:
    count = 0
    for label in sorted(os.listdir(val)):
        if not os.path.isdir(os.path.join(val, label)):
            continue
        os.makedirs(os.path.join(out, label), exist_ok=True)
        for name in sorted(os.listdir(os.path.join(val, label))):
            with Image.open(os.path.join(val, label, name)) as im:
                im = im.convert("RGB")
                im.thumbnail((200, 200), Image.LANCZOS)
                im.save(os.path.join(out, label, os.path.splitext(name)[0] + ".jpg"), "JPEG", quality=90)
            count += 1
    return count


def main(argv: List[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--agml-git", required=True, help="git directory of a Project-AgML/AgML clone")
    p.add_argument("--non-leaf-from", required=True, help="folder of <package>__<name> images (see above)")
    p.add_argument("--val", default="../shared/data/beans/val", help="the val photos (class folders)")
    p.add_argument("--out", default=".work/devood")
    p.add_argument("--lowres-out", default=".work/lowres/val")
    args = p.parse_args(argv)
    print(f"{args.lowres_out}: {build_lowres_val(args.val, args.lowres_out)} downscaled val photos")
    leaves = build_other_leaf(args.agml_git, os.path.join(args.out, "other-leaf"))
    others = build_non_leaf(args.non_leaf_from, os.path.join(args.out, "non-leaf"))
    print(f"{args.out}: {leaves} other-leaf tiles, {others} non-leaf photos")
    return 0


if __name__ == "__main__":
    sys.exit(main())
