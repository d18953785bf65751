"""The image-folder loader (model/data.py) and the batched augmentation (model/augment.py)."""
from __future__ import annotations

import math
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from PIL import Image

from model.augment import AugmentConfig, GpuAugment, affine_theta, eval_view, one_hot_smooth, rotate_hue
from model.data import DatasetError, SkippedFilesWarning, decode_image, load_dataset, load_split

CLASSES = ['angular_leaf_spot', 'bean_rust', 'healthy']


@pytest.fixture()
def dataset(beans_sample: Path) -> Path:
    """The small sample data set plus one truncated JPEG and one text file among the train images."""
    root = beans_sample
    good = next((root / 'train' / 'healthy').glob('*.jpg')).read_bytes()
    (root / 'train' / 'healthy' / 'truncated.jpg').write_bytes(good[: len(good) // 3])
    (root / 'train' / 'bean_rust' / 'notes.txt').write_text('not an image\n')
    return root


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert '\n' not in message and message
    return message


def test_loads_both_splits_and_warns_once_about_unreadable_files(dataset: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        train, val = load_dataset(dataset, size=64)
    skipped_warnings = [w for w in caught if issubclass(w.category, SkippedFilesWarning)]
    assert len(skipped_warnings) == 1
    text = str(skipped_warnings[0].message)
    assert 'truncated.jpg' in text and 'notes.txt' in text and text.startswith('skipped 2 ')
    assert train.labels == CLASSES == val.labels
    assert train.images.shape == (12, 3, 64, 64) and train.images.dtype == torch.uint8
    assert val.images.shape == (6, 3, 64, 64)
    assert train.class_counts() == [4, 4, 4] and val.class_counts() == [2, 2, 2]
    assert len(train.skipped) == 2 and not val.skipped
    # Targets follow the folders: every path sits in the folder of its label.
    for path, target in zip(train.paths, train.targets.tolist()):
        assert Path(path).parent.name == CLASSES[target]


def test_non_square_photo_is_resized_on_its_short_side_and_centre_cropped(tmp_path: Path) -> None:
    # 300×200: red left and right bands, green centre square; the centre crop must be all green.
    img = Image.new('RGB', (300, 200), (255, 0, 0))
    img.paste((0, 255, 0), (50, 0, 250, 200))
    path = tmp_path / 'wide.png'
    img.save(path)
    array = decode_image(path, 32)
    assert array is not None and array.shape == (32, 32, 3)
    assert array[:, 1:-1, 1].min() > 200 and array[:, 1:-1, 0].max() < 50


def test_missing_and_empty_dataset(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as err:
        load_dataset(tmp_path / 'nowhere')
    assert 'not found' in one_line(err)
    (tmp_path / 'empty').mkdir()
    with pytest.raises(DatasetError) as err:
        load_dataset(tmp_path / 'empty')
    assert 'empty' in one_line(err)


def test_missing_split(dataset: Path) -> None:
    shutil.rmtree(dataset / 'val')
    with pytest.raises(DatasetError) as err:
        load_dataset(dataset)
    assert 'split folder missing' in one_line(err) and 'val' in str(err.value)


def test_class_folder_without_images(dataset: Path) -> None:
    folder = dataset / 'val' / 'healthy'
    for f in folder.iterdir():
        f.unlink()
    (folder / 'readme.txt').write_text('no photos here')
    with pytest.raises(DatasetError) as err:
        load_split(dataset, 'val')
    assert 'no readable images' in one_line(err) and 'healthy' in str(err.value)


def test_class_sets_must_match_between_train_and_val(dataset: Path) -> None:
    (dataset / 'val' / 'bean_rust').rename(dataset / 'val' / 'rust')
    with pytest.raises(DatasetError) as err:
        load_dataset(dataset, size=32)
    message = one_line(err)
    assert "'rust'" in message and "'bean_rust'" in message


# ---- augmentation ---------------------------------------------------------------------------------

def sample_batch(n: int = 6, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)
    return images, torch.arange(n) % 3


def test_augment_shapes_ranges_and_soft_targets() -> None:
    images, targets = sample_batch()
    aug = GpuAugment(AugmentConfig(image_size=48), 'cpu', seed=3)
    for _ in range(4):  # several batches so mixup and cutmix both get drawn
        x, soft = aug(images, targets, 3, smoothing=0.1)
        assert x.shape == (6, 3, 48, 48) and x.dtype == torch.float32
        assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
        assert soft.shape == (6, 3) and torch.allclose(soft.sum(1), torch.ones(6))
        assert float(soft.min()) >= 0.1 / 3 - 1e-6  # smoothing keeps every class above zero


def test_augment_is_deterministic_per_seed() -> None:
    images, targets = sample_batch()
    a1, a2, b = (GpuAugment(AugmentConfig(image_size=48), 'cpu', seed=s) for s in (7, 7, 8))
    for _ in range(2):
        x1, y1 = a1(images, targets, 3)
        x2, y2 = a2(images, targets, 3)
        x3, _ = b(images, targets, 3)
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
        assert not torch.equal(x1, x3)


def warp(images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    grid = torch.nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    return torch.nn.functional.grid_sample(images, grid, mode='bilinear', padding_mode='reflection',
                                           align_corners=False)


def test_affine_identity_flips_and_quarter_turn() -> None:
    x = torch.rand(2, 3, 16, 16)
    one, zero = torch.ones(2), torch.zeros(2)
    identity = affine_theta(one, one, zero, zero, one, one, zero)
    assert torch.allclose(warp(x, identity), x, atol=1e-5)
    assert torch.allclose(warp(x, affine_theta(one, one, zero, zero, -one, one, zero)), x.flip(-1), atol=1e-5)
    assert torch.allclose(warp(x, affine_theta(one, one, zero, zero, one, -one, zero)), x.flip(-2), atol=1e-5)
    # +90°: output (x, y) reads source (-y, x): the output's right edge shows the source's bottom edge,
    # a quarter turn counter-clockwise on screen, which is torch.rot90 with k = 1.
    quarter = affine_theta(one, one, zero, zero, one, one, torch.full((2,), math.pi / 2))
    assert torch.allclose(warp(x, quarter), torch.rot90(x, k=1, dims=(-2, -1)), atol=1e-4)


def test_crop_box_reads_the_right_region() -> None:
    # Left half 0, right half 1: a half-width crop centred at +0.5 must see only the right half (its first
    # column interpolates across the boundary, as bilinear sampling at 2× magnification does).
    x = torch.zeros(1, 3, 32, 32)
    x[..., 16:] = 1.0
    half, one, zero = torch.full((1,), 0.5), torch.ones(1), torch.zeros(1)
    crop = warp(x, affine_theta(half, one, torch.full((1,), 0.5), zero, one, one, zero))
    assert float(crop[..., 1:].min()) > 0.99
    left = warp(x, affine_theta(half, one, torch.full((1,), -0.5), zero, one, one, zero))
    assert float(left[..., :-1].max()) < 0.01


def test_hue_rotation_keeps_grey_and_zero_turn_is_identity() -> None:
    x = torch.rand(3, 3, 8, 8)
    assert torch.allclose(rotate_hue(x, torch.zeros(3)), x, atol=1e-5)
    grey = torch.rand(3, 1, 8, 8).expand(3, 3, 8, 8)
    assert torch.allclose(rotate_hue(grey, torch.tensor([0.5, 1.0, 3.0])), grey, atol=1e-5)
    coloured = torch.tensor([1.0, 0.2, 0.1]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    assert not torch.allclose(rotate_hue(coloured, torch.tensor([1.0])), coloured, atol=1e-2)


def test_mixing_gives_convex_soft_targets() -> None:
    images, targets = sample_batch()
    config = AugmentConfig(image_size=48, mix_prob=1.0, cutmix_prob=0.0)  # mixup only
    aug = GpuAugment(config, 'cpu', seed=5)
    x = aug.color(aug.geometry(images))
    mixed, soft = aug.mix(x, targets, 3)
    plain = one_hot_smooth(targets, 3)
    assert torch.allclose(soft.sum(1), torch.ones(6))
    assert not torch.equal(soft, plain)  # mixed with another image's label
    assert float(soft.max()) <= 1.0 and float(soft.min()) >= 0.0


def test_eval_view_resizes_whole_image_or_centre_crops() -> None:
    images, _ = sample_batch(size=64)
    resized = eval_view(images, 32)
    assert resized.shape == (6, 3, 32, 32) and float(resized.max()) <= 1.0
    cropped = eval_view(images, 32, 'center-crop')
    assert torch.equal(cropped, images[..., 16:48, 16:48].float() / 255)
    with pytest.raises(ValueError):
        eval_view(images, 32, 'stretch')
