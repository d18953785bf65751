"""A backbone that never saw one class, for the second protocol of `npm run eval:teach`.

The shipped backbone was trained on all three classes, so teaching one of them back "from k photos" flatters
the method. This trains a small DeiT at LOW RESOLUTION on the CPU (no GPU in that session) on the train
photos of the other classes only, then writes the final-LayerNorm CLS features of EVERY train and val photo
(all classes, the held-out one included) in the feature-cache format of bench/lib/featureCache.ts, so that
the same TS teaching code and protocol run on them:

    python model/holdout_backbone.py --held-out bean_rust --out .work/holdout/bean_rust
    npm run eval:teach -- --features .work/holdout/bean_rust/features.json

It reuses train.py's `fit` (same augmentation, AdamW, cosine, label smoothing, mixup/cutmix, EMA); only the
model is smaller and the images are 64 px. The val photos of the known classes are evaluated during training
for the log only; nothing is selected on them. Nothing from here goes into public/models.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

if __package__ in (None, ''):  # run as a script: make `import model.…` work
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from model.augment import eval_view
from model.common import write_json
from model.data import DEFAULT_DATA, ImageSplit, load_dataset
from model.deit import DeiT, DeiTConfig, normalize
from model.train import FitOptions, evaluate, fit, label_id, prepare_for_training, restore_plain_classes


def without_class(split: ImageSplit, held_out: int) -> ImageSplit:
    """The split without class `held_out`; the remaining classes renumbered 0.. in their order."""
    keep = split.targets != held_out
    remap = torch.tensor([c - (c > held_out) for c in range(len(split.labels))], dtype=torch.int64)
    indices = keep.nonzero().flatten()
    return ImageSplit(images=split.images[indices], targets=remap[split.targets[indices]],
                      labels=[l for i, l in enumerate(split.labels) if i != held_out],
                      paths=[split.paths[int(i)] for i in indices])


@torch.no_grad()
def features_of(model: DeiT, images: torch.Tensor, image_size: int, batch: int = 64) -> torch.Tensor:
    """Features [N,F] of the evaluation view (the whole photo resized, as the app does)."""
    model.eval()
    out = [model.forward_features(normalize(eval_view(images[i:i + batch], image_size, 'resize')))
           for i in range(0, images.shape[0], batch)]
    return torch.cat(out)


def state_sha256(model: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def feature_rows(model: DeiT, split: ImageSplit, split_name: str, root: Path, image_size: int) -> List[Dict[str, Any]]:
    feats = features_of(model, split.images, image_size)
    rows = []
    for i, path in enumerate(split.paths):
        rows.append({'path': Path(path).resolve().relative_to(root.resolve()).as_posix(),
                     'label': label_id(split.labels[int(split.targets[i])]), 'split': split_name,
                     'features': [float(f'{v:.6g}') for v in feats[i].tolist()]})
    return rows


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', default=str(DEFAULT_DATA))
    p.add_argument('--held-out', required=True, help='class folder the backbone never sees (e.g. bean_rust)')
    p.add_argument('--out', required=True, help='folder for features.json, metrics.json and checkpoint.pt')
    p.add_argument('--image-size', type=int, default=64)
    p.add_argument('--source-size', type=int, default=72, help='photos decoded once at this size')
    p.add_argument('--patch-size', type=int, default=8)
    p.add_argument('--embed-dim', type=int, default=96)
    p.add_argument('--depth', type=int, default=6)
    p.add_argument('--heads', type=int, default=3)
    p.add_argument('--epochs', type=int, default=200)
    p.add_argument('--time-budget', type=float, default=480.0, help='seconds of training; 0 = all epochs')
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--warmup-epochs', type=int, default=10)
    p.add_argument('--eval-every', type=int, default=25)
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads (the machine is shared)')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


def run(args: argparse.Namespace, log: Callable[[str], None] = print) -> Dict[str, Any]:
    started = time.perf_counter()
    torch.set_num_threads(max(1, args.threads))
    torch.manual_seed(args.seed)
    root = Path(args.data)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train, val = load_dataset(root, size=args.source_size)
    ids = [label_id(name) for name in train.labels]
    if args.held_out not in ids:
        raise SystemExit(f'--held-out {args.held_out!r} is not one of the classes {ids}')
    held = ids.index(args.held_out)
    known_train, known_val = without_class(train, held), without_class(val, held)
    config = DeiTConfig(image_size=args.image_size, patch_size=args.patch_size, embed_dim=args.embed_dim,
                        depth=args.depth, heads=args.heads, num_classes=len(known_train.labels))
    model = DeiT(config)
    prepare_for_training(model, 0.1, fused_attention=False)
    opts = FitOptions(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, warmup_epochs=args.warmup_epochs,
                      eval_every=args.eval_every, time_budget=args.time_budget, ema_decay=0.99)
    log(f'training a {config.depth}-block, {config.embed_dim}-wide DeiT at {config.image_size} px (patch '
        f'{config.patch_size}) on {len(known_train)} train photos of {known_train.labels}; {args.held_out} never seen')
    result = fit(model, 'lowres', known_train.images, known_train.targets, known_val.images, known_val.targets,
                 [label_id(l) for l in known_train.labels], config.image_size, opts, args.seed, torch.device('cpu'),
                 log=log)
    final = result.ema_model.float()
    restore_plain_classes(final)
    known = evaluate(final, known_val.images, known_val.targets, known_train.labels, config.image_size, opts, amp=False)
    sha = state_sha256(final)
    photos = feature_rows(final, train, 'train', root, config.image_size) + feature_rows(final, val, 'val', root, config.image_size)
    model_name = (f'low-resolution DeiT ({config.image_size} px, patch {config.patch_size}, {config.depth} blocks, '
                  f'width {config.embed_dim}) trained on CPU without {args.held_out}')
    cache = {
        'backbone_sha256': sha, 'model': model_name, 'backend': f'PyTorch {torch.__version__} on CPU',
        'created': datetime.now(timezone.utc).isoformat(), 'held_out': args.held_out,
        'trained_on': {'classes': [label_id(l) for l in known_train.labels], 'train_photos': len(known_train),
                       'epochs': result.epochs, 'train_seconds': round(result.seconds, 1)},
        'known_classes_val_accuracy_own_head': known['val_accuracy'],
        'photos': photos,
    }
    write_json(str(out / 'features.json'), cache, indent=None)
    torch.save({'model': final.state_dict(), 'config': config.to_dict(), 'labels': known_train.labels}, out / 'checkpoint.pt')
    metrics = {k: v for k, v in cache.items() if k != 'photos'}
    metrics['seconds'] = round(time.perf_counter() - started, 1)
    metrics['history'] = result.history
    write_json(str(out / 'metrics.json'), metrics)
    log(f'{args.held_out} held out: {result.epochs} epochs in {result.seconds:.0f} s; known classes val '
        f'{known["val_accuracy"]:.1%} with its own head; features of {len(photos)} photos in {out / "features.json"}')
    return metrics


def main(argv: Optional[Sequence[str]] = None) -> int:
    run(parse_args(argv))
    return 0


if __name__ == '__main__':
    sys.exit(main())
