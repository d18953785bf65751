"""Trains the DeiT on an image-folder dataset (default ../shared/data/beans) and writes checkpoint + metrics.

    python model/train.py --out runs/beans                       # from scratch, the shipped recipe
    python model/train.py --init deit_tiny_patch16_224.pth --new-head --head-only --out runs/head
    python model/train.py --preset micro --epochs 2 --teachers 0 --out /tmp/smoke   # seconds on a CPU

All images live on the training device as uint8; augmentation runs there batched (model/augment.py).
Recipe: AdamW, linear warmup then cosine, label smoothing, mixup/cutmix, stochastic depth, EMA of the
weights (the EMA weights are what is saved and shipped), bf16 autocast on CUDA, fixed seed. By default
a small ensemble of ResNet-18s is trained first in the same job and soft-distilled into the DeiT on the
very same augmented views ("consistent teaching"), the best bet for the 90 % goal where a from-scratch
DeiT-tiny alone stalls at 84–86 %. `--time-budget` fits the epoch count to wall-clock seconds after
timing the first epochs, so the GPU job always ends in time.

Writes OUT/checkpoint.pt ({'model', 'config', 'labels', 'metrics', 'recipe'}, see model/deit.py) and
OUT/metrics.json, each atomically (temp file, then rename).
"""
from __future__ import annotations

import argparse
import copy
import math
import os
import platform
import random
import re
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

if __package__ in (None, ''):  # run as a script: make `import model.…` work
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from model.augment import AugmentConfig, GpuAugment, eval_view
from model.common import atomic_write, write_json
from model.data import DEFAULT_DATA, DEFAULT_SIZE, DatasetError, load_dataset
from model.deit import Attention, Block, DeiT, DeiTConfig, load_checkpoint, normalize, preset
from model.teacher import TEACHER_PRESETS, build_teacher

Logits = Any  # Tensor, or (cls_logits, dist_logits) from a distilled DeiT in training mode


class TrainError(ValueError):
    """A bad option or input the user must fix; the message is one line."""


# ---- training-only speed and regularisation, without changing the model's state_dict --------------

class DropPathBlock(Block):
    """deit.Block with stochastic depth on both residual branches (per sample, training mode only)."""
    drop_prob: float = 0.0

    def _drop(self, branch: Tensor) -> Tensor:
        if not self.training or self.drop_prob <= 0:
            return branch
        keep = 1.0 - self.drop_prob
        mask = branch.new_empty(branch.shape[0], 1, 1).bernoulli_(keep)
        return branch * mask / keep

    def forward(self, x: Tensor) -> Tensor:
        x = x + self._drop(self.attn(self.norm1(x)))
        return x + self._drop(self.mlp(self.norm2(x)))


class FusedAttention(Attention):
    """Same maths as deit.Attention through torch 2's fused scaled_dot_product_attention (flash kernels)."""

    def forward(self, x: Tensor) -> Tensor:
        q, k, v = self.split_qkv(x)
        b, n, d = x.shape
        out = F.scaled_dot_product_attention(q, k, v)  # default scale = head_dim ** -0.5, as deit's
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


def prepare_for_training(model: DeiT, drop_path: float, fused_attention: bool) -> None:
    """Swaps block/attention classes in place (same parameters, same state_dict keys)."""
    depth = len(model.blocks)
    for i, block in enumerate(model.blocks):
        if drop_path > 0:
            block.__class__ = DropPathBlock
            block.drop_prob = drop_path * i / max(depth - 1, 1)  # linearly deeper, as in DeiT
        if fused_attention:
            block.attn.__class__ = FusedAttention


def restore_plain_classes(model: DeiT) -> None:
    for block in model.blocks:
        block.__class__ = Block
        block.__dict__.pop('drop_prob', None)
        block.attn.__class__ = Attention


# ---- EMA -----------------------------------------------------------------------------------------

class Ema:
    """Exponential moving average of a model's weights. With `only_trainable`, frozen tensors are copied
    once and never touched again, so a frozen backbone stays bit-identical."""

    def __init__(self, model: nn.Module, decay: float, only_trainable: bool) -> None:
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.updates = 0
        live = dict(model.named_parameters())
        live.update(dict(model.named_buffers()))
        mine = dict(self.model.named_parameters())
        mine.update(dict(self.model.named_buffers()))
        self.averaged: List[Tuple[Tensor, Tensor]] = []
        self.copied: List[Tuple[Tensor, Tensor]] = []
        for name, tensor in live.items():
            if only_trainable and not (isinstance(tensor, nn.Parameter) and tensor.requires_grad):
                continue
            (self.averaged if tensor.is_floating_point() else self.copied).append((mine[name], tensor))

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))  # short warm-up of the average
        if not self.averaged:
            return
        ema, live = [list(t) for t in zip(*self.averaged)]
        if hasattr(torch, '_foreach_lerp_'):
            torch._foreach_lerp_(ema, [t.detach() for t in live], 1.0 - decay)
        else:
            for e, t in zip(ema, live):
                e.lerp_(t.detach(), 1.0 - decay)
        for e, t in self.copied:
            e.copy_(t)


# ---- options ---------------------------------------------------------------------------------------

@dataclass
class FitOptions:
    epochs: int = 600
    batch_size: int = 128
    lr: float = 1e-3
    min_lr: float = 1e-5
    weight_decay: float = 0.05
    warmup_epochs: int = 20
    label_smoothing: float = 0.1
    ema_decay: float = 0.998
    clip_grad: float = 1.0
    eval_every: int = 25
    repeat_aug: int = 1
    time_budget: float = 0.0  # seconds for this fit; 0 = run all epochs
    amp: bool = False
    compile: bool = False
    eval_view: str = 'resize'
    distill_alpha: float = 0.5
    distill_temp: float = 1.0
    distill: str = 'soft'


@dataclass
class FitResult:
    ema_model: nn.Module
    epochs: int
    seconds: float
    history: List[Dict[str, Any]] = field(default_factory=list)


# ---- evaluation ----------------------------------------------------------------------------------------

@torch.no_grad()
def predict_logits(model: nn.Module, images: Tensor, image_size: int, view: str, batch: int, amp: bool,
                   channels_last: bool = False) -> Tuple[Tensor, Tensor]:
    """Float32 logits on the evaluation view and on its horizontal flip: ([N,C], [N,C])."""
    was_training = model.training
    model.eval()
    plain, flipped = [], []
    for start in range(0, images.shape[0], batch):
        x = normalize(eval_view(images[start:start + batch], image_size, view))
        for out, inp in ((plain, x), (flipped, x.flip(-1))):
            if channels_last:
                inp = inp.contiguous(memory_format=torch.channels_last)
            with autocast(amp, images.device):
                out.append(model(inp).float())
    model.train(was_training)
    return torch.cat(plain), torch.cat(flipped)


def accuracy_report(logits: Tensor, targets: Tensor, labels: Sequence[str]) -> Dict[str, Any]:
    predicted = logits.argmax(1).cpu()
    targets = targets.cpu()
    c = len(labels)
    confusion = torch.zeros(c, c, dtype=torch.int64)
    confusion.index_put_((targets, predicted), torch.ones_like(targets), accumulate=True)
    per_class = {label: round(float(confusion[i, i]) / max(int(confusion[i].sum()), 1), 4)
                 for i, label in enumerate(labels)}
    return {'accuracy': round(float((predicted == targets).double().mean()), 4), 'per_class': per_class,
            'confusion': confusion.tolist()}


def evaluate(model: nn.Module, images: Tensor, targets: Tensor, labels: Sequence[str], image_size: int,
             opts: FitOptions, channels_last: bool = False, amp: Optional[bool] = None) -> Dict[str, Any]:
    """Accuracy on one view and with flip averaging; `amp` False for the final, float32 numbers."""
    amp = opts.amp if amp is None else amp
    plain, flipped = predict_logits(model, images, image_size, opts.eval_view, 256, amp, channels_last)
    single = accuracy_report(plain, targets, labels)
    tta = accuracy_report(plain.softmax(1) + flipped.softmax(1), targets, labels)
    return {'val_accuracy': single['accuracy'], 'per_class': single['per_class'],
            'confusion': single['confusion'], 'val_accuracy_flip_tta': tta['accuracy'],
            'per_class_flip_tta': tta['per_class']}


# ---- training loop -----------------------------------------------------------------------------------

class autocast:
    """bf16 autocast when enabled (CUDA by default; `--amp on` also on a CPU, to try the mixed-precision
    code path without a GPU), a no-op otherwise."""

    def __init__(self, enabled: bool, device: torch.device) -> None:
        self.ctx = torch.autocast(device_type=device.type, dtype=torch.bfloat16) if (
            enabled and device.type in ('cuda', 'cpu')) else None

    def __enter__(self) -> None:
        if self.ctx is not None:
            self.ctx.__enter__()

    def __exit__(self, *exc: Any) -> None:
        if self.ctx is not None:
            self.ctx.__exit__(*exc)


def lr_at(step: int, total: int, warmup: int, opts: FitOptions) -> float:
    if step < warmup:
        return opts.lr * (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return opts.min_lr + 0.5 * (opts.lr - opts.min_lr) * (1 + math.cos(math.pi * min(progress, 1.0)))


def param_groups(model: nn.Module, weight_decay: float) -> List[Dict[str, Any]]:
    """No weight decay on biases, norms, tokens and position embeddings (DeiT's convention)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim <= 1 or name.endswith(('cls_token', 'dist_token', 'pos_embed')):
            no_decay.append(p)
        else:
            decay.append(p)
    groups = [{'params': decay, 'weight_decay': weight_decay}, {'params': no_decay, 'weight_decay': 0.0}]
    return [g for g in groups if g['params']]


def make_optimizer(model: nn.Module, opts: FitOptions, device: torch.device) -> torch.optim.Optimizer:
    groups = param_groups(model, opts.weight_decay)
    if device.type == 'cuda':
        try:
            return torch.optim.AdamW(groups, lr=opts.lr, betas=(0.9, 0.999), fused=True)
        except (TypeError, RuntimeError):
            pass
    return torch.optim.AdamW(groups, lr=opts.lr, betas=(0.9, 0.999))


def soft_cross_entropy(logits: Tensor, soft_targets: Tensor) -> Tensor:
    return -(soft_targets * F.log_softmax(logits.float(), dim=1)).sum(1).mean()


def distillation_loss(logits: Tensor, teacher_probs: Tensor, opts: FitOptions) -> Tensor:
    if opts.distill == 'hard':
        return F.cross_entropy(logits.float(), teacher_probs.argmax(1))
    t = opts.distill_temp
    log_student = F.log_softmax(logits.float() / t, dim=1)
    kl = (teacher_probs * (teacher_probs.clamp_min(1e-8).log() - log_student)).sum(1).mean()
    return kl * (t * t)


def fit(model: nn.Module, name: str, train_images: Tensor, train_targets: Tensor, val_images: Tensor,
        val_targets: Tensor, labels: Sequence[str], image_size: int, opts: FitOptions, seed: int,
        device: torch.device, head_only: bool = False, channels_last: bool = False,
        teacher: Optional[Callable[[Tensor], Tensor]] = None, log: Callable[[str], None] = print) -> FitResult:
    """Trains `model` in place; returns the EMA copy (the weights to keep) and the history."""
    num_classes = len(labels)
    augment = GpuAugment(AugmentConfig(image_size=image_size), device, seed=seed)
    order = torch.Generator().manual_seed(seed)
    ema = Ema(model, opts.ema_decay, only_trainable=head_only)
    optimizer = make_optimizer(model, opts, device)
    trainable = [p for g in optimizer.param_groups for p in g['params']]
    distilled = isinstance(model, DeiT) and model.config.distilled

    if head_only:
        assert isinstance(model, DeiT)
        backbone = model

        def forward_train(x: Tensor) -> Logits:
            with torch.no_grad():
                feats = backbone.forward_features(x)
            d = backbone.config.embed_dim
            if backbone.head_dist is None:
                return backbone.head(feats)
            return backbone.head(feats[:, :d]), backbone.head_dist(feats[:, d:])
        model.eval()  # frozen backbone: no drop path, plain inference behaviour
    else:
        forward_train = model
        model.train()
    if opts.compile:
        if hasattr(torch, 'compile'):
            forward_train = torch.compile(forward_train)
        else:
            log(f'{name}: --compile needs torch 2; torch {torch.__version__} trains uncompiled')

    samples = train_images.shape[0] * opts.repeat_aug
    batch = min(opts.batch_size, samples)
    steps_per_epoch = max(1, samples // batch)
    epochs = opts.epochs
    warmup = min(opts.warmup_epochs * steps_per_epoch, max(epochs * steps_per_epoch // 4, 1))
    history: List[Dict[str, Any]] = []
    start = time.perf_counter()
    calibrated = opts.time_budget <= 0
    epoch_times: List[float] = []
    eval_seconds = 0.0
    step = 0
    epoch = 0
    while epoch < epochs:
        epoch += 1
        t0 = time.perf_counter()
        order_idx = torch.cat([torch.randperm(train_images.shape[0], generator=order)
                               for _ in range(opts.repeat_aug)])
        loss_sum = torch.zeros((), device=device)
        for i in range(steps_per_epoch):
            idx = order_idx[i * batch:(i + 1) * batch].to(device)
            x, soft = augment(train_images[idx], train_targets[idx], num_classes, opts.label_smoothing)
            x = normalize(x)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            lr = lr_at(step, epochs * steps_per_epoch, warmup, opts)
            for g in optimizer.param_groups:
                g['lr'] = lr
            with autocast(opts.amp, device):
                out = forward_train(x)
                probs = teacher(x) if teacher is not None else None
            if distilled and isinstance(out, tuple):
                cls_logits, dist_logits = out
                loss = soft_cross_entropy(cls_logits, soft)
                if probs is not None:  # DeiT's distillation token learns from the teacher
                    loss = (loss + distillation_loss(dist_logits, probs, opts)) * 0.5
                else:
                    loss = (loss + soft_cross_entropy(dist_logits, soft)) * 0.5
            else:
                loss = soft_cross_entropy(out, soft)
                if probs is not None:
                    a = opts.distill_alpha
                    loss = loss * (1 - a) + distillation_loss(out, probs, opts) * a
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if opts.clip_grad > 0:
                torch.nn.utils.clip_grad_norm_(trainable, opts.clip_grad)
            optimizer.step()
            ema.update()
            loss_sum += loss.detach()
            step += 1
        mean_loss = float(loss_sum) / steps_per_epoch  # one device sync per epoch
        if not math.isfinite(mean_loss):
            raise TrainError(f'{name}: training diverged (loss {mean_loss} in epoch {epoch}); try a lower --lr')
        seconds = time.perf_counter() - t0
        epoch_times.append(seconds)
        record: Dict[str, Any] = {'epoch': epoch, 'loss': round(mean_loss, 5), 'lr': lr, 'seconds': round(seconds, 3)}
        line = f'{name} epoch {epoch:4d}/{epochs} loss {mean_loss:.4f} lr {lr:.2e} {seconds:6.2f}s'
        if epoch == 1 or epoch % opts.eval_every == 0 or epoch == epochs:
            e0 = time.perf_counter()
            live = evaluate(model, val_images, val_targets, labels, image_size, opts, channels_last)
            averaged = evaluate(ema.model, val_images, val_targets, labels, image_size, opts, channels_last)
            if head_only:
                model.eval()
            eval_seconds = time.perf_counter() - e0
            record.update(val=live['val_accuracy'], val_tta=live['val_accuracy_flip_tta'],
                          ema_val=averaged['val_accuracy'], ema_val_tta=averaged['val_accuracy_flip_tta'])
            line += (f' | val {live["val_accuracy"]:6.1%} tta {live["val_accuracy_flip_tta"]:6.1%}'
                     f' | ema {averaged["val_accuracy"]:6.1%} tta {averaged["val_accuracy_flip_tta"]:6.1%}')
        history.append(record)
        log(line)
        if not calibrated and epoch >= min(4, epochs):
            # Fit the schedule to the budget: the cosine is re-stretched over the new total, warm-up unchanged.
            calibrated = True
            per_epoch = float(np.median(epoch_times[1:] or epoch_times)) + eval_seconds / opts.eval_every
            left = opts.time_budget - (time.perf_counter() - start) - 2 * eval_seconds
            fitted = epoch + max(0, int(left * 0.97 / per_epoch))
            if fitted < epochs:
                log(f'{name}: time budget {opts.time_budget:.0f}s at {per_epoch:.3f}s/epoch: '
                    f'{fitted} epochs instead of {epochs}')
                epochs = max(fitted, epoch)
    if isinstance(ema.model, DeiT):
        restore_plain_classes(ema.model)
    return FitResult(ema_model=ema.model, epochs=epoch, seconds=time.perf_counter() - start, history=history)


# ---- teachers ------------------------------------------------------------------------------------------

def train_teachers(args: argparse.Namespace, opts: FitOptions, train_images: Tensor, train_targets: Tensor,
                   val_images: Tensor, val_targets: Tensor, labels: Sequence[str], image_size: int,
                   device: torch.device, log: Callable[[str], None]) -> Tuple[Optional[Callable[[Tensor], Tensor]],
                                                                              Dict[str, Any]]:
    if args.teachers <= 0:
        return None, {}
    teacher_opts = FitOptions(**{**asdict(opts), 'epochs': args.teacher_epochs, 'lr': args.teacher_lr,
                                 'warmup_epochs': min(opts.warmup_epochs, 5), 'time_budget': args.teacher_budget,
                                 'compile': False})
    nets: List[nn.Module] = []
    reports: List[Dict[str, Any]] = []
    for k in range(args.teachers):
        torch.manual_seed(args.seed + 1000 + k)
        net = build_teacher(args.teacher, len(labels)).to(device)
        channels_last = device.type == 'cuda'
        if channels_last:
            net = net.to(memory_format=torch.channels_last)
        result = fit(net, f'teacher{k}', train_images, train_targets, val_images, val_targets, labels, image_size,
                     teacher_opts, args.seed + 1000 + k, device, channels_last=channels_last, log=log)
        report = evaluate(result.ema_model, val_images, val_targets, labels, image_size, opts, channels_last)
        reports.append({'arch': args.teacher, 'epochs': result.epochs, 'seconds': round(result.seconds, 1),
                        'val_accuracy': report['val_accuracy'], 'val_accuracy_flip_tta': report['val_accuracy_flip_tta']})
        log(f'teacher{k}: {args.teacher} {result.epochs} epochs {result.seconds:.0f}s '
            f'val {report["val_accuracy"]:.1%} (flip tta {report["val_accuracy_flip_tta"]:.1%})')
        nets.append(result.ema_model)
        # Later teachers reuse the first one's fitted epoch count: one number reproduces the run (--teacher-epochs).
        teacher_opts.epochs, teacher_opts.time_budget = result.epochs, 0.0
    temperature = opts.distill_temp
    channels_last = device.type == 'cuda'

    @torch.no_grad()
    def ensemble(x: Tensor) -> Tensor:
        """Mean of the teachers' softened probabilities on the student's own (normalised, augmented) batch."""
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return torch.stack([(net(x).float() / temperature).softmax(1) for net in nets]).mean(0)

    class Ensemble(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            return torch.stack([net(x).float().softmax(1) for net in nets]).mean(0).log()

    combined = evaluate(Ensemble(), val_images, val_targets, labels, image_size, opts, channels_last)
    summary = {'teachers': reports, 'ensemble_val_accuracy': combined['val_accuracy'],
               'ensemble_val_accuracy_flip_tta': combined['val_accuracy_flip_tta']}
    log(f'teacher ensemble ({args.teachers}× {args.teacher}): val {combined["val_accuracy"]:.1%} '
        f'(flip tta {combined["val_accuracy_flip_tta"]:.1%})')
    return ensemble, summary


# ---- model setup ------------------------------------------------------------------------------------

def label_id(folder: str) -> str:
    """Folder name → class id of the contract ([a-z0-9_]+)."""
    return re.sub(r'[^a-z0-9]+', '_', folder.lower()).strip('_')


def build_model(args: argparse.Namespace, labels: List[str]) -> Tuple[DeiT, Dict[str, Any]]:
    """From scratch (preset) or from --init; one-line TrainError on class-count or architecture mismatch."""
    num_classes = len(labels)
    if args.init is None:
        if args.head_only:
            raise TrainError('--head-only needs --init CHECKPOINT (a trained backbone to freeze)')
        torch.manual_seed(args.seed)
        size = {'image_size': args.image_size} if args.image_size else {}
        try:
            return DeiT(preset(args.preset or 'tiny', num_classes=num_classes, **size)), {'init': None}
        except ValueError as err:
            raise TrainError(str(err)) from None
    try:
        model, ckpt = load_checkpoint(args.init, image_size=args.image_size)
    except (FileNotFoundError, ValueError) as err:
        raise TrainError(str(err)) from None
    config = model.config
    if args.preset is not None:
        want = preset(args.preset, num_classes=config.num_classes,
                      **({'image_size': args.image_size} if args.image_size else {}))
        if want != config:
            raise TrainError(f'architecture mismatch: {args.init} is {config.architecture} (dim {config.embed_dim}, '
                             f'depth {config.depth}, image {config.image_size}, distilled {config.distilled}), '
                             f'not --preset {args.preset}')
    old_labels = ckpt.get('labels')
    same_classes = config.num_classes == num_classes and (old_labels is None or list(old_labels) == labels)
    if not same_classes and not args.new_head:
        have = f'{config.num_classes} classes' + (f' {list(old_labels)}' if old_labels else '')
        raise TrainError(f'class-count mismatch: {args.init} has {have}, the dataset has {num_classes} {labels}; '
                         'pass --new-head to train a fresh classifier head')
    if not same_classes or args.new_head:
        state = {k: v for k, v in ckpt['model'].items() if not k.startswith(('head.', 'head_dist.'))}
        torch.manual_seed(args.seed)
        model = DeiT(DeiTConfig.from_dict({**config.to_dict(), 'num_classes': num_classes}))
        model.load_state_dict(state, strict=False)
    init_recipe = ckpt.get('recipe') if isinstance(ckpt.get('recipe'), dict) else {}
    init_metrics = ckpt.get('metrics') if isinstance(ckpt.get('metrics'), dict) else {}
    info: Dict[str, Any] = {'init': str(args.init), 'init_architecture': config.architecture,
                            'new_head': bool(not same_classes or args.new_head)}
    if init_recipe.get('summary'):
        info['init_recipe'] = init_recipe['summary']
    if 'epochs' in init_metrics:  # one of our runs: its figures travel on as the first phase
        info['first_phase'] = {'image_size': (init_recipe.get('args') or {}).get('image_size') or config.image_size,
                               **{k: init_metrics[k] for k in ('epochs', 'seconds', 'hardware') if k in init_metrics},
                               'val_accuracy_at_its_size': init_metrics.get('val_accuracy')}
    return model, info


def hardware(device: torch.device) -> str:
    if device.type == 'cuda':
        return f'{torch.cuda.get_device_name(device)}, torch {torch.__version__}'
    return f'CPU {platform.machine()} ×{os.cpu_count()} ({torch.get_num_threads()} threads), torch {torch.__version__}'


def check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix='.write-test-', dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise TrainError(f'output folder not writable: {folder} ({err.strerror or err})') from None


def pick_device(name: str) -> torch.device:
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name.startswith('cuda') and not torch.cuda.is_available():
        raise TrainError('--device cuda requested but torch sees no CUDA GPU')
    return torch.device(name)


def recipe_summary(args: argparse.Namespace, config: DeiTConfig, opts: FitOptions, epochs: int) -> str:
    start = f'init {Path(args.init).name}' if args.init else 'from scratch'
    mode = 'head only' if args.head_only else ('full fine-tune' if args.init else '')
    parts = [f'{config.architecture} at {config.image_size} px {start}' + (f', {mode}' if mode else ''),
             f'{epochs} ep AdamW lr {opts.lr:g} wd {opts.weight_decay:g} bs {opts.batch_size}, warmup+cosine',
             f'label smoothing {opts.label_smoothing:g}, GPU aug (crop/flips/rotation/colour, mixup/cutmix)',
             f'drop path {args.drop_path:g}, EMA {opts.ema_decay:g}']
    if args.teachers > 0 and not args.head_only:
        parts.append(f'{opts.distill} distillation from {args.teachers}× {args.teacher} '
                     f'(alpha {opts.distill_alpha:g}, T {opts.distill_temp:g})')
    return '; '.join(parts)


# ---- main ---------------------------------------------------------------------------------------------

def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--data', default=str(DEFAULT_DATA), help='image-folder dataset with train/ and val/')
    p.add_argument('--out', required=True, help='folder for checkpoint.pt and metrics.json')
    p.add_argument('--preset', default=None, help='DeiT config: tiny, tiny-distilled, micro, … (default tiny)')
    p.add_argument('--init', default=None, help='start from this checkpoint (timm DeiT state_dict or ours)')
    p.add_argument('--new-head', action='store_true', help='with --init: a fresh classifier head')
    p.add_argument('--head-only', action='store_true', help='with --init: freeze the backbone, train the head')
    p.add_argument('--source-size', type=int, default=DEFAULT_SIZE, help='images are decoded once at this size')
    p.add_argument('--image-size', type=int, default=None,
                   help="train at this input size instead of the preset's (a multiple of the patch size); "
                        'with --init, the position embeddings are resampled to it')
    p.add_argument('--threads', type=int, default=0, help='CPU threads for torch; 0 = one per core')
    p.add_argument('--epochs', type=int, default=FitOptions.epochs)
    p.add_argument('--batch-size', type=int, default=FitOptions.batch_size)
    p.add_argument('--lr', type=float, default=FitOptions.lr)
    p.add_argument('--min-lr', type=float, default=FitOptions.min_lr)
    p.add_argument('--weight-decay', type=float, default=FitOptions.weight_decay)
    p.add_argument('--warmup-epochs', type=int, default=FitOptions.warmup_epochs)
    p.add_argument('--label-smoothing', type=float, default=FitOptions.label_smoothing)
    p.add_argument('--ema-decay', type=float, default=FitOptions.ema_decay, help='per step')
    p.add_argument('--clip-grad', type=float, default=FitOptions.clip_grad, help='0 = off')
    p.add_argument('--drop-path', type=float, default=0.1, help='stochastic depth of the last block')
    p.add_argument('--repeat-aug', type=int, default=1, help='each image this many times per epoch')
    p.add_argument('--eval-every', type=int, default=FitOptions.eval_every)
    p.add_argument('--eval-view', choices=['resize', 'center-crop'], default='resize',
                   help='resize = the whole image scaled to the model size, as the app does')
    p.add_argument('--time-budget', type=float, default=0.0, help='seconds for the student; 0 = all epochs')
    p.add_argument('--teachers', type=int, default=2, help='CNN teachers trained first and distilled; 0 = none')
    p.add_argument('--teacher', choices=sorted(TEACHER_PRESETS), default='resnet18')
    p.add_argument('--teacher-epochs', type=int, default=300)
    p.add_argument('--teacher-lr', type=float, default=2e-3)
    p.add_argument('--teacher-budget', type=float, default=0.0, help='seconds per teacher; 0 = all epochs')
    p.add_argument('--distill', choices=['soft', 'hard'], default='soft')
    p.add_argument('--distill-alpha', type=float, default=FitOptions.distill_alpha, help='weight of the teacher loss')
    p.add_argument('--distill-temp', type=float, default=FitOptions.distill_temp)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--device', default='auto', help='auto, cpu, cuda, cuda:1, …')
    p.add_argument('--amp', choices=['auto', 'on', 'off'], default='auto', help='bf16 autocast (CUDA only)')
    p.add_argument('--compile', action='store_true', help='torch.compile the training forward (torch 2)')
    p.add_argument('--no-fused-attention', action='store_true', help='keep the explicit softmax attention')
    return p.parse_args(argv)


def run(args: argparse.Namespace, log: Callable[[str], None] = print) -> Dict[str, Any]:
    started = time.perf_counter()
    out = Path(args.out)
    check_writable(out)
    if args.head_only and args.init is None:
        raise TrainError('--head-only needs --init CHECKPOINT (a trained backbone to freeze)')
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    if device.type == 'cpu':
        # Some builds start with one thread whatever the core count.
        torch.set_num_threads(args.threads or os.cpu_count() or 1)
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True

    train, val = load_dataset(args.data, size=args.source_size)
    labels = [label_id(name) for name in train.labels]
    if any(not label for label in labels) or len(set(labels)) != len(labels):
        raise TrainError(f'class folder names {train.labels} do not give distinct ids of [a-z0-9_] ({labels})')
    model, init_info = build_model(args, labels)
    config = model.config
    if args.source_size < config.image_size:
        raise TrainError(f'--source-size {args.source_size} is smaller than the model image size {config.image_size}')
    log(f'data: {len(train)} train / {len(val)} val images, classes {labels}, '
        f'train per class {train.class_counts()}; model {config.architecture} on {hardware(device)}')

    opts = FitOptions(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, min_lr=args.min_lr,
                      weight_decay=args.weight_decay, warmup_epochs=args.warmup_epochs,
                      label_smoothing=args.label_smoothing, ema_decay=args.ema_decay, clip_grad=args.clip_grad,
                      eval_every=max(1, args.eval_every), repeat_aug=max(1, args.repeat_aug),
                      time_budget=args.time_budget, amp=(args.amp == 'on' or (args.amp == 'auto' and device.type == 'cuda')),
                      compile=args.compile, eval_view=args.eval_view, distill_alpha=args.distill_alpha,
                      distill_temp=args.distill_temp, distill=args.distill)
    train_images, train_targets = train.images.to(device), train.targets.to(device)
    val_images, val_targets = val.images.to(device), val.targets.to(device)

    teacher, teacher_summary = None, {}
    if not args.head_only:
        teacher, teacher_summary = train_teachers(args, opts, train_images, train_targets, val_images, val_targets,
                                                  labels, config.image_size, device, log)
    if args.head_only:
        for name, p in model.named_parameters():
            p.requires_grad_(name.startswith(('head.', 'head_dist.')))
    model = model.to(device)
    prepare_for_training(model, 0.0 if args.head_only else args.drop_path,
                         fused_attention=hasattr(F, 'scaled_dot_product_attention') and not args.no_fused_attention)
    result = fit(model, 'deit', train_images, train_targets, val_images, val_targets, labels, config.image_size,
                 opts, args.seed, device, head_only=args.head_only, teacher=teacher, log=log)
    final = result.ema_model.float()
    shipped = evaluate(final, val_images, val_targets, labels, config.image_size, opts, amp=False)
    restore_plain_classes(model)
    live = evaluate(model, val_images, val_targets, labels, config.image_size, opts, amp=False)
    seconds = time.perf_counter() - started

    summary = recipe_summary(args, config, opts, result.epochs)
    if init_info.get('init_recipe'):  # a two-phase run says what the first phase was
        summary += f"; after [{init_info['init_recipe']}]"
    recipe = {'summary': summary, **init_info,
              'options': asdict(opts), 'epochs_requested': args.epochs, 'drop_path': args.drop_path,
              'teachers': args.teachers if not args.head_only else 0, 'teacher': args.teacher,
              'head_only': bool(args.head_only), 'augment': AugmentConfig(image_size=config.image_size).to_dict(),
              'data': str(args.data), 'source_size': args.source_size, 'args': vars(args),
              # The same schedule without the wall-clock budgets (GPU kernels are not bit-deterministic).
              'reproduce': reproduce_command(args, result.epochs, teacher_summary)}
    metrics: Dict[str, Any] = {
        'val_accuracy': shipped['val_accuracy'],  # the saved (EMA) weights on one view, as the app runs them
        'val_accuracy_flip_tta': shipped['val_accuracy_flip_tta'],
        'per_class': shipped['per_class'], 'per_class_flip_tta': shipped['per_class_flip_tta'],
        'confusion': shipped['confusion'], 'confusion_axes': 'rows = true class, columns = predicted, label order',
        'labels': labels, 'weights': 'ema',
        'live_weights': {'val_accuracy': live['val_accuracy'], 'val_accuracy_flip_tta': live['val_accuracy_flip_tta']},
        'epochs': result.epochs, 'seconds': round(seconds, 1), 'train_seconds': round(result.seconds, 1),
        'hardware': hardware(device), 'seed': args.seed,
        'train_images': len(train), 'val_images': len(val), 'skipped_files': train.skipped + val.skipped,
        'recipe': recipe['summary'], 'reproduce': recipe['reproduce'],
        **({'first_phase': init_info['first_phase']} if 'first_phase' in init_info else {}), **({'distillation': teacher_summary} if teacher_summary else {}),
        'history': result.history,
    }
    with atomic_write(str(out / 'checkpoint.pt')) as tmp:
        torch.save({'model': {k: v.detach().cpu() for k, v in final.state_dict().items()},
                    'config': config.to_dict(), 'labels': labels, 'metrics': without_history(metrics),
                    'recipe': recipe}, tmp)
    write_json(str(out / 'metrics.json'), metrics)
    per_class = ', '.join(f'{k} {v:.1%}' for k, v in shipped['per_class'].items())
    log(f'val accuracy {shipped["val_accuracy"]:.2%} (flip tta {shipped["val_accuracy_flip_tta"]:.2%}; {per_class}) '
        f'after {result.epochs} epochs, {seconds:.0f}s; wrote {out / "checkpoint.pt"} and {out / "metrics.json"}')
    return metrics


def reproduce_command(args: argparse.Namespace, epochs: int, teacher_summary: Dict[str, Any]) -> str:
    defaults = vars(parse_args(['--out', args.out]))
    fixed = {**vars(args), 'epochs': epochs, 'time_budget': 0.0, 'teacher_budget': 0.0}
    if teacher_summary:
        fixed['teacher_epochs'] = teacher_summary['teachers'][0]['epochs']
    flags = []
    for key, value in fixed.items():
        if key in ('out', 'data') or value == defaults.get(key):
            continue
        flag = '--' + key.replace('_', '-')
        flags.append(flag if value is True else f'{flag} {value}')
    return ' '.join(['python model/train.py --data DATA --out OUT', *flags])


def without_history(metrics: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != 'history'}


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    # Warnings (skipped files) as one plain line, without the source line Python adds.
    warnings.showwarning = lambda message, category, *rest, **kw: print(f'warning: {message}', file=sys.stderr)
    try:
        run(args, log=lambda line: print(line, flush=True))
    except (TrainError, DatasetError, PermissionError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
