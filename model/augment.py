"""Batched, seeded data augmentation that runs on the batch's own device (the GPU when training there).

One affine warp per image does random-resized-crop, both flips and rotation at once (`F.affine_grid` +
`F.grid_sample`, reflection padding so rotated corners hold leaf texture rather than black), then colour
jitter and mixup/cutmix work on whole-batch tensors. Only tensor ops: runs on torch 1.13 CPU and torch 2.x CUDA.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class AugmentConfig:
    image_size: int = 224
    crop_scale: Tuple[float, float] = (0.25, 1.0)  # area fraction of the source image
    crop_ratio: Tuple[float, float] = (3 / 4, 4 / 3)
    hflip: float = 0.5
    vflip: float = 0.5  # leaves have no up
    rotate_degrees: float = 180.0  # uniform in ±rotate_degrees
    brightness: float = 0.3
    contrast: float = 0.3
    saturation: float = 0.3
    hue: float = 0.03  # fraction of a full turn; disease colour matters, so kept small
    mixup_alpha: float = 0.8
    cutmix_alpha: float = 1.0
    mix_prob: float = 1.0  # chance a batch is mixed at all
    cutmix_prob: float = 0.5  # given a mixed batch, cutmix rather than mixup

    def to_dict(self) -> dict:
        return asdict(self)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [N,3,H,W] → float32 in [0,1]."""
    return images.float().div_(255.0) if images.dtype == torch.uint8 else images.float()


def eval_view(images: torch.Tensor, image_size: int, mode: str = 'resize') -> torch.Tensor:
    """The deterministic view the model is evaluated on, float32 in [0,1].

    'resize' scales the whole (square) image to image_size, as the app does with a photo; 'center-crop' takes
    the central image_size square."""
    x = to_float(images)
    if mode == 'center-crop':
        top, left = (x.shape[-2] - image_size) // 2, (x.shape[-1] - image_size) // 2
        return x[..., top:top + image_size, left:left + image_size].contiguous()
    if mode != 'resize':
        raise ValueError(f'unknown eval view {mode!r} (use resize or center-crop)')
    if x.shape[-1] == image_size and x.shape[-2] == image_size:
        return x
    return F.interpolate(x, size=(image_size, image_size), mode='bilinear', align_corners=False,
                         antialias=True).clamp_(0.0, 1.0)


class GpuAugment:
    """Seeded batch augmentation. `generator` draws per-image values on the batch's device; a numpy
    generator draws the per-batch mixing choices (torch has no seeded Beta sampler)."""

    def __init__(self, config: AugmentConfig, device: torch.device | str, seed: int = 0):
        self.config = config
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)
        self.rng = np.random.default_rng(seed)

    def _uniform(self, n: int, low: float, high: float) -> torch.Tensor:
        return torch.rand(n, generator=self.generator, device=self.device) * (high - low) + low

    def _bernoulli_sign(self, n: int, p: float) -> torch.Tensor:
        """-1 with probability p, else +1."""
        return 1.0 - 2.0 * (torch.rand(n, generator=self.generator, device=self.device) < p).float()

    def geometry(self, images: torch.Tensor) -> torch.Tensor:
        """Random resized crop + flips + rotation in one warp, output [N,3,S,S] float."""
        c = self.config
        n = images.shape[0]
        area = self._uniform(n, *c.crop_scale)
        log_ratio = self._uniform(n, math.log(c.crop_ratio[0]), math.log(c.crop_ratio[1]))
        ratio = torch.exp(log_ratio)
        # Width and height as fractions of the source side (normalised coordinates span 2 per side).
        width = torch.sqrt(area * ratio).clamp(max=1.0)
        height = torch.sqrt(area / ratio).clamp(max=1.0)
        center_x = self._uniform(n, -1.0, 1.0) * (1.0 - width)
        center_y = self._uniform(n, -1.0, 1.0) * (1.0 - height)
        flip_x = self._bernoulli_sign(n, c.hflip)
        flip_y = self._bernoulli_sign(n, c.vflip)
        angle = self._uniform(n, -1.0, 1.0) * math.radians(c.rotate_degrees)
        theta = affine_theta(width, height, center_x, center_y, flip_x, flip_y, angle)
        size = (n, images.shape[1], c.image_size, c.image_size)
        grid = F.affine_grid(theta, list(size), align_corners=False)
        return F.grid_sample(to_float(images), grid, mode='bilinear', padding_mode='reflection',
                             align_corners=False)

    def color(self, x: torch.Tensor) -> torch.Tensor:
        """Brightness, contrast, saturation and hue jitter on float [N,3,H,W] in [0,1]."""
        c = self.config
        n = x.shape[0]
        shape = (n, 1, 1, 1)
        weights = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        if c.brightness > 0:
            x = x * self._uniform(n, 1 - c.brightness, 1 + c.brightness).view(shape)
        if c.contrast > 0:
            mean = (x * weights).sum(1, keepdim=True).mean((2, 3), keepdim=True)
            x = (x - mean) * self._uniform(n, 1 - c.contrast, 1 + c.contrast).view(shape) + mean
        if c.saturation > 0:
            gray = (x * weights).sum(1, keepdim=True)
            x = (x - gray) * self._uniform(n, 1 - c.saturation, 1 + c.saturation).view(shape) + gray
        if c.hue > 0:
            x = rotate_hue(x, self._uniform(n, -c.hue, c.hue) * (2 * math.pi))
        return x.clamp(0.0, 1.0)

    def mix(self, x: torch.Tensor, targets: torch.Tensor, num_classes: int,
            smoothing: float = 0.0) -> Tuple[torch.Tensor, torch.Tensor]:
        """Mixup or cutmix for the whole batch; returns images and soft targets [N,C] (label-smoothed)."""
        c = self.config
        soft = one_hot_smooth(targets, num_classes, smoothing)
        use_mix = (c.mixup_alpha > 0 or c.cutmix_alpha > 0) and self.rng.random() < c.mix_prob
        if not use_mix or x.shape[0] < 2:
            return x, soft
        use_cutmix = c.cutmix_alpha > 0 and (c.mixup_alpha <= 0 or self.rng.random() < c.cutmix_prob)
        perm = torch.randperm(x.shape[0], generator=self.generator, device=self.device)
        if use_cutmix:
            lam = float(self.rng.beta(c.cutmix_alpha, c.cutmix_alpha))
            h, w = x.shape[-2:]
            cut_h, cut_w = int(h * math.sqrt(1 - lam)), int(w * math.sqrt(1 - lam))
            cy, cx = int(self.rng.integers(h)), int(self.rng.integers(w))
            top, bottom = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, h)
            left, right = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, w)
            x = x.clone()
            x[:, :, top:bottom, left:right] = x[perm, :, top:bottom, left:right]
            lam = 1.0 - (bottom - top) * (right - left) / float(h * w)  # the area actually pasted
        else:
            lam = float(self.rng.beta(c.mixup_alpha, c.mixup_alpha))
            x = x * lam + x[perm] * (1 - lam)
        return x, soft * lam + soft[perm] * (1 - lam)

    def __call__(self, images: torch.Tensor, targets: torch.Tensor, num_classes: int,
                 smoothing: float = 0.0, mix: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
        """uint8 or float [N,3,H,W] + int targets → augmented float [N,3,S,S] in [0,1] + soft targets [N,C]."""
        x = self.color(self.geometry(images))
        if mix:
            return self.mix(x, targets, num_classes, smoothing)
        return x, one_hot_smooth(targets, num_classes, smoothing)


def affine_theta(width: torch.Tensor, height: torch.Tensor, center_x: torch.Tensor, center_y: torch.Tensor,
                 flip_x: torch.Tensor, flip_y: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """[N,2,3] matrices for `F.affine_grid`, mapping output coords to source coords (both in [-1,1]):
    source = rotation(angle) · diag(width·flip_x, height·flip_y) · output + (center_x, center_y)."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    sx, sy = width * flip_x, height * flip_y
    return torch.stack([
        torch.stack([cos * sx, -sin * sy, center_x], dim=1),
        torch.stack([sin * sx, cos * sy, center_y], dim=1),
    ], dim=1)


def one_hot_smooth(targets: torch.Tensor, num_classes: int, smoothing: float = 0.0) -> torch.Tensor:
    off = smoothing / num_classes
    out = torch.full((targets.shape[0], num_classes), off, device=targets.device)
    return out.scatter_(1, targets.view(-1, 1), 1.0 - smoothing + off)


def rotate_hue(x: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotates each image's chroma by `angle` radians in YIQ space (luma kept): x [N,3,H,W], angle [N]."""
    to_yiq = torch.tensor([[0.299, 0.587, 0.114],
                           [0.596, -0.274, -0.322],
                           [0.211, -0.523, 0.312]], device=x.device, dtype=x.dtype)
    from_yiq = torch.linalg.inv(to_yiq)
    cos, sin = torch.cos(angle).to(x.dtype), torch.sin(angle).to(x.dtype)
    one, zero = torch.ones_like(cos), torch.zeros_like(cos)
    rotation = torch.stack([torch.stack([one, zero, zero], 1),
                            torch.stack([zero, cos, -sin], 1),
                            torch.stack([zero, sin, cos], 1)], 1)  # [N,3,3]
    matrix = from_yiq @ rotation @ to_yiq  # [N,3,3]
    return torch.einsum('nij,njhw->nihw', matrix, x)


def build_augment(image_size: int, device: torch.device | str, seed: int,
                  overrides: Optional[dict] = None) -> GpuAugment:
    config = AugmentConfig(image_size=image_size, **(overrides or {}))
    return GpuAugment(config, device, seed)
