"""model/holdout_backbone.py on the small beans sample: the held-out class is never trained on, and the features
file has every photo of every class in bench/lib/featureCache.ts's format. Seconds on a CPU."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from model.data import load_split
from model.holdout_backbone import parse_args, run, without_class


def test_without_class_drops_and_renumbers(beans_sample: Path) -> None:
    split = load_split(beans_sample, 'train', 16)
    kept = without_class(split, 1)
    assert kept.labels == ['angular_leaf_spot', 'healthy']
    assert len(kept) == len(split) - split.class_counts()[1]
    assert set(kept.targets.tolist()) <= {0, 1}
    assert not any('/bean_rust/' in p for p in kept.paths)
    assert torch.equal(kept.images[kept.targets == 1], split.images[split.targets == 2])


def test_features_file_covers_every_photo_and_names_the_held_out_class(beans_sample: Path, tmp_path: Path) -> None:
    out = tmp_path / 'held'
    lines = []
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        run(parse_args(['--data', str(beans_sample), '--held-out', 'bean_rust', '--out', str(out), '--image-size', '32',
                        '--source-size', '36', '--embed-dim', '24', '--depth', '1', '--heads', '2', '--epochs', '1',
                        '--time-budget', '0', '--batch-size', '4', '--warmup-epochs', '1']), log=lines.append)
    assert 'bean_rust never seen' in lines[0]
    cache = json.loads((out / 'features.json').read_text())
    assert cache['held_out'] == 'bean_rust'
    assert cache['trained_on']['classes'] == ['angular_leaf_spot', 'healthy']
    train, val = load_split(beans_sample, 'train', 16), load_split(beans_sample, 'val', 16)
    assert len(cache['photos']) == len(train) + len(val)
    assert {p['label'] for p in cache['photos']} == {'angular_leaf_spot', 'bean_rust', 'healthy'}
    assert {p['split'] for p in cache['photos']} == {'train', 'val'}
    first = cache['photos'][0]
    assert first['path'].startswith('train/') and len(first['features']) == 24
    assert len(cache['backbone_sha256']) == 64
