"""A ResNet-style CNN teacher in plain PyTorch (no torchvision/timm needed on either machine).

CNNs bring the locality bias a from-scratch ViT lacks on 1k images: a ResNet-18 trained from scratch on
the beans reached ~90 % val where the DeiT-tiny stalled at 84–86 %. train.py can train a few of these in
the same job and soft-distil their averaged predictions into the DeiT (`--teachers N`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Tuple

from torch import Tensor, nn


@dataclass(frozen=True)
class ResNetConfig:
    widths: Tuple[int, ...] = (64, 128, 256, 512)
    blocks: Tuple[int, ...] = (2, 2, 2, 2)  # ResNet-18
    num_classes: int = 3

    def to_dict(self) -> dict:
        return asdict(self)


TEACHER_PRESETS = {
    'resnet18': ResNetConfig(),
    'resnet10': ResNetConfig(blocks=(1, 1, 1, 1)),
    'micro': ResNetConfig(widths=(8, 16), blocks=(1, 1)),  # tests only
}


class BasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        # Zero-init the last BN so each block starts as the identity: steadier from-scratch training.
        nn.init.zeros_(self.bn2.weight)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.act(self.bn1(self.conv1(x)))
        return self.act(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """Takes normalised images [B,3,S,S] (like deit.DeiT), returns logits [B,C]."""

    def __init__(self, config: ResNetConfig) -> None:
        super().__init__()
        self.config = config
        stem = config.widths[0]
        self.stem = nn.Sequential(
            nn.Conv2d(3, stem, 7, 2, 3, bias=False), nn.BatchNorm2d(stem), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1))
        stages = []
        in_ch = stem
        for i, (width, count) in enumerate(zip(config.widths, config.blocks)):
            for j in range(count):
                stages.append(BasicBlock(in_ch, width, 2 if (j == 0 and i > 0) else 1))
                in_ch = width
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(in_ch, config.num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.pool(self.stages(self.stem(x))).flatten(1))


def build_teacher(name: str, num_classes: int) -> ResNet:
    if name not in TEACHER_PRESETS:
        raise ValueError(f"unknown teacher '{name}' (known: {', '.join(TEACHER_PRESETS)})")
    base = TEACHER_PRESETS[name]
    return ResNet(ResNetConfig(widths=base.widths, blocks=base.blocks, num_classes=num_classes))
