"""Image-folder datasets decoded once into one uint8 tensor.

Layout: ROOT/train/<class>/*.jpg and ROOT/val/<class>/*.jpg; class ids are the folder names, sorted.
Every image is decoded with PIL, turned upright (EXIF), resized so its shorter side is `size` and
centre-cropped to size×size, then kept as uint8 [N,3,size,size] so a whole split can live on the GPU
(the beans train split is 1037 × 3 × 256 × 256 bytes ≈ 204 MB) and augmentation never waits for disk.
"""
from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from PIL import Image, ImageOps

# Relative to the repository root; the shared data sits beside the checkout.
DEFAULT_DATA = Path(__file__).resolve().parents[1] / '..' / 'shared' / 'data' / 'beans'
DEFAULT_SIZE = 256
_BICUBIC = getattr(Image, 'Resampling', Image).BICUBIC


class DatasetError(ValueError):
    """A dataset problem the user must fix; the message is one line."""


class SkippedFilesWarning(UserWarning):
    """Some files could not be decoded as images and were left out."""


@dataclass
class ImageSplit:
    images: torch.Tensor  # uint8 [N,3,size,size]
    targets: torch.Tensor  # int64 [N], index into labels
    labels: List[str]
    paths: List[str]
    skipped: List[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.targets.numel())

    def class_counts(self) -> List[int]:
        return torch.bincount(self.targets, minlength=len(self.labels)).tolist()


def list_classes(split_dir: Path) -> List[str]:
    """Sorted names of the class folders in one split (hidden folders ignored)."""
    return sorted(p.name for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith('.'))


def decode_image(path: Path, size: int) -> Optional[np.ndarray]:
    """HWC uint8 RGB size×size, or None when the file is not a readable image."""
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            img = img.convert('RGB')
            width, height = img.size
            scale = size / min(width, height)
            new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
            if (new_w, new_h) != (width, height):
                img = img.resize((new_w, new_h), _BICUBIC)
            left, top = (new_w - size) // 2, (new_h - size) // 2
            img = img.crop((left, top, left + size, top + size))
            return np.asarray(img, dtype=np.uint8).copy()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        # PIL raises UnidentifiedImageError (an OSError) for non-images and OSError/SyntaxError for truncated
        # or malformed files; either way the file is skipped and reported, never fatal mid-run.
        return None


def _check_root(root: Path) -> None:
    if not root.exists():
        raise DatasetError(f'dataset folder not found: {root}')
    if not root.is_dir():
        raise DatasetError(f'dataset path is not a folder: {root}')
    if not any(root.iterdir()):
        raise DatasetError(f'dataset folder is empty: {root}')


def load_split(root: Path | str, split: str, size: int = DEFAULT_SIZE,
               labels: Optional[Sequence[str]] = None, workers: Optional[int] = None) -> ImageSplit:
    """Decodes ROOT/split/<class>/* into an ImageSplit. Does not warn: `skipped` lists unreadable files.

    `labels`, when given (the train split's classes), must equal this split's class folders."""
    root = Path(root)
    _check_root(root)
    split_dir = root / split
    if not split_dir.is_dir():
        raise DatasetError(f'split folder missing: {split_dir} (expected {root}/{split}/<class>/<images>)')
    found = list_classes(split_dir)
    if not found:
        raise DatasetError(f'no class folders in {split_dir} (expected {split_dir}/<class>/<images>)')
    if labels is not None and list(labels) != found:
        only_here = sorted(set(found) - set(labels))
        only_there = sorted(set(labels) - set(found))
        raise DatasetError(f'class folders of {split!r} differ from train: only in {split}: {only_here or "-"}, '
                           f'missing from {split}: {only_there or "-"}')

    files: List[Tuple[Path, int]] = []
    for class_id, name in enumerate(found):
        entries = sorted(p for p in (split_dir / name).iterdir() if p.is_file() and not p.name.startswith('.'))
        files.extend((p, class_id) for p in entries)

    workers = workers or min(16, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:  # PIL releases the GIL while decoding
        decoded = list(pool.map(lambda item: decode_image(item[0], size), files))

    arrays, targets, paths, skipped = [], [], [], []
    for (path, class_id), array in zip(files, decoded):
        if array is None:
            skipped.append(str(path))
        else:
            arrays.append(array)
            targets.append(class_id)
            paths.append(str(path))

    counts = np.bincount(np.asarray(targets, dtype=np.int64), minlength=len(found))
    empty = [name for name, count in zip(found, counts) if count == 0]
    if empty:
        raise DatasetError(f'class folder(s) with no readable images in {split_dir}: {", ".join(empty)}')

    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    return ImageSplit(images=images, targets=torch.tensor(targets, dtype=torch.int64), labels=found,
                      paths=paths, skipped=skipped)


def load_dataset(root: Path | str = DEFAULT_DATA, size: int = DEFAULT_SIZE,
                 splits: Tuple[str, str] = ('train', 'val')) -> Tuple[ImageSplit, ImageSplit]:
    """Loads the train and val splits with the same classes; warns once about every skipped file."""
    root = Path(root)
    train = load_split(root, splits[0], size)
    val = load_split(root, splits[1], size, labels=train.labels)
    skipped = train.skipped + val.skipped
    if skipped:
        shown = ', '.join(skipped[:20]) + (f' … and {len(skipped) - 20} more' if len(skipped) > 20 else '')
        warnings.warn(f'skipped {len(skipped)} unreadable file(s): {shown}', SkippedFilesWarning, stacklevel=2)
    return train, val
