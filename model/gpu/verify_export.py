"""Checks an exported model folder with onnxruntime (Python, CPU) on the val photos.

    python model/gpu/verify_export.py --model DIR --checkpoint CK.pt --data .device/beans [--json OUT.json]

Runs each graph of the manifest over the val split, one photo at a time as the app does (whole image
resized to image_size, pixels in [0,1]); reports accuracy per graph and the largest logit difference from
the PyTorch checkpoint on the same inputs. Exit status 1 when the fp32 graphs disagree with PyTorch.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ''):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import torch

from model.augment import eval_view
from model.data import load_split
from model.deit import load_checkpoint, normalize
from model.train import label_id


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--model', required=True, help='exported model folder (manifest.json, head.json, graphs)')
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--data', required=True)
    p.add_argument('--limit', type=int, default=0, help='only the first N val photos (0 = all)')
    p.add_argument('--json', help='write the report here too')
    args = p.parse_args()
    try:
        import onnxruntime as ort
    except ImportError:
        print('verify: onnxruntime for Python is not installed; skipped')
        return 0
    folder = Path(args.model)
    manifest = json.loads((folder / 'manifest.json').read_text())
    head = json.loads((folder / manifest['default_head']).read_text())
    model, ckpt = load_checkpoint(args.checkpoint)
    size = manifest['image_size']
    val = load_split(args.data, 'val', ckpt.get('recipe', {}).get('source_size', 256))
    if [label_id(name) for name in val.labels] != list(head['labels']):
        print(f'verify: error: val classes {val.labels} are not the head labels {head["labels"]}', file=sys.stderr)
        return 1
    images = val.images[: args.limit or None]
    targets = val.targets[: args.limit or None].numpy()
    pixels = eval_view(images, size).numpy().astype(np.float32)
    with torch.no_grad():
        reference = model.float()(normalize(torch.from_numpy(pixels))).numpy()
    feeds_common = {'head_weight': np.asarray(head['weight'], dtype=np.float32),
                    'head_bias': np.asarray(head['bias'], dtype=np.float32),
                    'target': np.zeros((1, len(head['labels'])), dtype=np.float32)}
    report = {'images': int(len(targets)), 'torch_accuracy': float((reference.argmax(1) == targets).mean()),
              'graphs': {}}
    ok = True
    for role, file in manifest['graphs'].items():
        options = ort.SessionOptions()
        options.intra_op_num_threads = 8
        session = ort.InferenceSession(str(folder / file), options, providers=['CPUExecutionProvider'])
        names = {i.name for i in session.get_inputs()}
        t0 = time.perf_counter()
        logits = []
        for i in range(len(targets)):
            feed = {'pixels': pixels[i:i + 1], **{k: v for k, v in feeds_common.items() if k in names}}
            logits.append(session.run(['logits'], feed)[0][0])
        logits = np.stack(logits)
        diff = float(np.abs(logits - reference).max())
        accuracy = float((logits.argmax(1) == targets).mean())
        report['graphs'][role] = {'file': file, 'accuracy': accuracy, 'max_abs_logit_diff_vs_torch': diff,
                                  'ms_per_image_cpu': round(1000 * (time.perf_counter() - t0) / len(targets), 1)}
        if 'fp16' not in role:  # fp16 graphs are reported, not gated: their error is expected to be larger
            ok = ok and diff <= 1e-3
        print(f'verify: {role:13s} {file:26s} val accuracy {accuracy:.2%}  max |logit - torch| {diff:.2e}')
    print(f'verify: torch checkpoint val accuracy {report["torch_accuracy"]:.2%} on {len(targets)} photos')
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + '\n')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
