"""Training smoke tests on tiny configs (model/train.py): seconds on a CPU, nothing about accuracy."""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import List

import pytest
import torch

from model.augment import eval_view
from model.data import load_split
from model.deit import Block, DeiT, DeiTConfig, load_checkpoint, normalize, preset, save_checkpoint
from model.teacher import build_teacher
from model.train import (DropPathBlock, FitOptions, FusedAttention, TrainError, distillation_loss, label_id, lr_at,
                         main, parse_args, prepare_for_training, restore_plain_classes, run)

LABELS = ['angular_leaf_spot', 'bean_rust', 'healthy']
# micro-distilled: 64 px images, 18 tokens; quick even with a teacher on 2 CPU cores.
FAST = ['--preset', 'micro-distilled', '--source-size', '64', '--batch-size', '6', '--eval-every', '1',
        '--warmup-epochs', '1', '--device', 'cpu']


@pytest.fixture()
def dataset(beans_sample: Path) -> Path:
    root = beans_sample
    (root / 'train' / 'healthy' / 'corrupt.jpg').write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    (root / 'val' / 'bean_rust' / 'labels.txt').write_text('a text file among the photos\n')
    return root


def train(dataset: Path, out: Path, *extra: str) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return run(parse_args(['--data', str(dataset), '--out', str(out), *extra]), log=lambda line: None)


def test_smoke_micro_writes_loadable_checkpoint_and_metrics(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / 'run'
    lines: List[str] = []
    with pytest.warns(UserWarning, match=r'skipped 2 unreadable file\(s\): .*corrupt\.jpg.*labels\.txt'):
        run(parse_args(['--data', str(dataset), '--out', str(out), '--preset', 'micro', '--epochs', '2',
                        '--teachers', '0', '--batch-size', '6', '--eval-every', '1', '--device', 'cpu']),
            log=lines.append)
    assert sum(line.startswith('deit epoch') for line in lines) == 2  # one progress line per epoch
    assert lines[-1].startswith('val accuracy')

    model, ckpt = load_checkpoint(str(out / 'checkpoint.pt'))
    assert ckpt['labels'] == LABELS and model.config == preset('micro')
    metrics = json.loads((out / 'metrics.json').read_text())
    assert 0.0 <= metrics['val_accuracy'] <= 1.0 and metrics['epochs'] == 2
    assert set(metrics['per_class']) == set(LABELS)
    assert sum(map(sum, metrics['confusion'])) == metrics['val_images'] == 6
    assert metrics['train_images'] == 12
    assert sorted(Path(p).name for p in metrics['skipped_files']) == ['corrupt.jpg', 'labels.txt']
    assert ckpt['metrics']['val_accuracy'] == metrics['val_accuracy']
    assert isinstance(ckpt['recipe']['summary'], str) and 'from scratch' in ckpt['recipe']['summary']
    # The checkpoint holds trained weights: not the seed's initial ones.
    torch.manual_seed(0)
    initial = DeiT(preset('micro')).state_dict()
    assert not torch.equal(initial['blocks.0.attn.qkv.weight'], ckpt['model']['blocks.0.attn.qkv.weight'])
    assert len(metrics['history']) == 2 and 'ema_val' in metrics['history'][-1]
    # The reported accuracy is what the saved weights give on the val photos, one whole-image view each.
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        val = load_split(dataset, 'val', 256)
    with torch.no_grad():
        predicted = model(normalize(eval_view(val.images, 224))).argmax(1)
    assert metrics['val_accuracy'] == pytest.approx(float((predicted == val.targets).double().mean()), abs=1e-4)


def make_init_checkpoint(path: Path, labels: List[str], name: str = 'micro-distilled') -> DeiT:
    torch.manual_seed(123)
    model = DeiT(preset(name, num_classes=len(labels)))
    save_checkpoint(str(path), model, labels)
    return model


def test_head_only_changes_only_the_head(dataset: Path, tmp_path: Path) -> None:
    init = tmp_path / 'init.pt'
    make_init_checkpoint(init, LABELS)
    out = tmp_path / 'head'
    train(dataset, out, *FAST, '--init', str(init), '--head-only', '--epochs', '2')
    before = torch.load(init)['model']
    after = torch.load(out / 'checkpoint.pt')['model']
    assert set(before) == set(after)
    for key in before:
        if key.startswith(('head.', 'head_dist.')):
            assert not torch.equal(before[key], after[key]), key
        else:
            assert torch.equal(before[key], after[key]), key  # bit-identical: the exported backbone is unchanged


def test_new_head_on_a_checkpoint_with_other_classes(dataset: Path, tmp_path: Path) -> None:
    init = tmp_path / 'four.pt'
    make_init_checkpoint(init, ['a', 'b', 'c', 'd'])
    with pytest.raises(TrainError) as err:
        train(dataset, tmp_path / 'x', *FAST, '--init', str(init), '--epochs', '1')
    assert 'class-count mismatch' in str(err.value) and '--new-head' in str(err.value)
    assert '\n' not in str(err.value)
    metrics = train(dataset, tmp_path / 'y', *FAST, '--init', str(init), '--new-head', '--head-only', '--epochs', '1')
    assert metrics['labels'] == LABELS
    assert torch.load(tmp_path / 'y' / 'checkpoint.pt')['model']['head.weight'].shape[0] == 3


def test_head_only_from_a_timm_style_state_dict(dataset: Path, tmp_path: Path) -> None:
    # A timm file is a bare state_dict (here with DataParallel's 'module.' prefix) with ImageNet's head shape.
    # A small body whose shapes infer_config reads back exactly (heads = dim / 64), to stay fast on a CPU.
    config = DeiTConfig(image_size=64, patch_size=16, embed_dim=64, depth=2, heads=1, num_classes=10)
    torch.manual_seed(7)
    timm_like = DeiT(config).state_dict()
    init = tmp_path / 'deit_small_test.pth'
    torch.save({'model': {'module.' + k: v for k, v in timm_like.items()}}, init)
    with pytest.raises(TrainError, match='class-count mismatch: .* has 10 classes'):
        train(dataset, tmp_path / 'x', *FAST[2:], '--init', str(init), '--head-only')
    metrics = train(dataset, tmp_path / 'y', *FAST[2:], '--init', str(init), '--new-head', '--head-only',
                    '--epochs', '1')
    model, ckpt = load_checkpoint(str(tmp_path / 'y' / 'checkpoint.pt'))
    assert model.config == DeiTConfig(**{**config.to_dict(), 'num_classes': 3})
    assert ckpt['labels'] == LABELS == metrics['labels']
    for key, value in timm_like.items():
        if not key.startswith('head.'):
            assert torch.equal(ckpt['model'][key], value), key
    assert 'init deit_small_test.pth, head only' in metrics['recipe']


def test_bad_inputs_give_one_line_errors(dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    init = tmp_path / 'init.pt'
    make_init_checkpoint(init, LABELS)
    with pytest.raises(TrainError, match='architecture mismatch'):
        train(dataset, tmp_path / 'a', '--preset', 'micro', '--init', str(init), '--epochs', '1')
    with pytest.raises(TrainError, match='--head-only needs --init'):
        train(dataset, tmp_path / 'b', *FAST, '--head-only')
    with pytest.raises(TrainError, match='checkpoint not found'):
        train(dataset, tmp_path / 'c', *FAST, '--init', str(tmp_path / 'missing.pt'))
    blocker = tmp_path / 'file'
    blocker.write_text('a file where the output folder should go')
    with pytest.raises(TrainError, match='output folder not writable'):
        train(dataset, blocker / 'out', *FAST)
    # Through the command line: exit status 2 and one "error:" line, no traceback.
    assert main(['--data', str(tmp_path / 'nowhere'), '--out', str(tmp_path / 'd')]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: dataset folder not found') and '\n' not in err
    assert not (tmp_path / 'd' / 'checkpoint.pt').exists()


def test_teacher_distillation_and_time_budget(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / 'kd'
    lines: List[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        metrics = run(parse_args(['--data', str(dataset), '--out', str(out), *FAST, '--epochs', '40',
                                  '--time-budget', '0.01', '--teachers', '1', '--teacher', 'micro',
                                  '--teacher-epochs', '1']), log=lines.append)
    # The budget is checked after timing 4 epochs: far too small, so training stops right there.
    assert metrics['epochs'] == 4
    assert any('time budget' in line for line in lines)
    teachers = metrics['distillation']['teachers']
    assert len(teachers) == 1 and teachers[0]['epochs'] == 1
    assert 'distillation from 1× micro' in metrics['recipe']
    model, _ = load_checkpoint(str(out / 'checkpoint.pt'))
    assert model.config.distilled and model.config.image_size == 64


def test_lr_schedule_warms_up_then_decays_to_the_floor() -> None:
    opts = FitOptions(lr=1e-3, min_lr=1e-5)
    values = [lr_at(step, 100, 10, opts) for step in range(100)]
    assert values[0] < values[5] < values[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(values[10:], values[11:]))
    assert lr_at(100, 100, 10, opts) == pytest.approx(1e-5)


def test_training_only_classes_keep_the_model_maths() -> None:
    torch.manual_seed(0)
    model = DeiT(preset('micro-distilled')).eval()
    x = normalize(torch.rand(2, 3, 64, 64))
    want = model(x)
    keys = set(model.state_dict())
    fused = hasattr(torch.nn.functional, 'scaled_dot_product_attention')
    prepare_for_training(model, drop_path=0.5, fused_attention=fused)
    assert isinstance(model.blocks[-1], DropPathBlock) and set(model.state_dict()) == keys
    assert isinstance(model.blocks[0].attn, FusedAttention) == fused
    assert torch.allclose(model(x), want, atol=1e-5)  # eval mode: no drop, same attention maths
    model.train()
    first, _ = model(x)
    second, _ = model(x)
    assert not torch.allclose(first, second)  # stochastic depth active in training mode
    restore_plain_classes(model)
    assert type(model.blocks[-1]) is Block
    assert torch.allclose(model.eval()(x), want, atol=1e-5)


def test_distillation_loss_is_zero_only_when_the_student_matches() -> None:
    teacher_logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    for temp in (1.0, 2.0):
        opts = FitOptions(distill='soft', distill_temp=temp)
        probs = (teacher_logits / temp).softmax(1)
        assert float(distillation_loss(teacher_logits, probs, opts)) == pytest.approx(0.0, abs=1e-6)
        assert float(distillation_loss(teacher_logits.flip(1), probs, opts)) > 0.1
    hard = distillation_loss(torch.zeros(2, 3), teacher_logits.softmax(1), FitOptions(distill='hard'))
    assert float(hard) == pytest.approx(float(torch.log(torch.tensor(3.0))), abs=1e-6)  # CE of uniform vs argmax


def test_resnet18_teacher_is_resnet18_sized() -> None:
    net = build_teacher('resnet18', 3).eval()
    params = sum(p.numel() for p in net.parameters())
    # torchvision's ResNet-18 has 11,689,512 parameters with 1000 classes; a 3-class head has 997·513 fewer.
    assert params == 11_689_512 - 997 * 513
    assert net(torch.rand(2, 3, 64, 64)).shape == (2, 3)


def test_folder_names_become_contract_label_ids() -> None:
    assert label_id('Leaf Blight') == 'leaf_blight'
    assert label_id('bean_rust') == 'bean_rust'
    assert label_id('  Mosaic-Virus (BCMV) ') == 'mosaic_virus_bcmv'


def test_same_seed_same_weights_on_cpu(dataset: Path, tmp_path: Path) -> None:
    runs = {}
    for name, seed in (('a', '3'), ('b', '3'), ('c', '4')):
        train(dataset, tmp_path / name, *FAST, '--epochs', '2', '--teachers', '0', '--seed', seed)
        runs[name] = torch.load(tmp_path / name / 'checkpoint.pt')['model']
    assert all(torch.equal(runs['a'][k], runs['b'][k]) for k in runs['a'])
    assert not torch.equal(runs['a']['blocks.0.attn.qkv.weight'], runs['c']['blocks.0.attn.qkv.weight'])


def test_small_images_first_then_full_size_fine_tune(dataset: Path, tmp_path: Path) -> None:
    # The CPU recipe: most epochs at a small input size (fewer tokens), then a fine-tune at full size.
    small = tmp_path / 'small'
    train(dataset, small, *FAST, '--image-size', '32', '--teachers', '0', '--epochs', '1')
    first, _ = load_checkpoint(str(small / 'checkpoint.pt'))
    assert first.config.image_size == 32 and first.config.tokens == 2 + 4
    full = tmp_path / 'full'
    train(dataset, full, *FAST, '--init', str(small / 'checkpoint.pt'), '--image-size', '64', '--teachers', '0',
          '--epochs', '1')
    second, ckpt = load_checkpoint(str(full / 'checkpoint.pt'))
    assert second.config == preset('micro-distilled', num_classes=3)  # the preset's own size again: 18 tokens
    assert ckpt['recipe']['init'] == str(small / 'checkpoint.pt')
    # The summary that reaches the manifest tells both phases.
    summary = ckpt['recipe']['summary']
    assert summary.startswith('deit_custom at 64 px init checkpoint.pt, full fine-tune; 1 ep')
    assert '; after [deit_custom at 32 px from scratch; 1 ep' in summary
    first_phase = json.loads((full / 'metrics.json').read_text())['first_phase']
    assert first_phase['image_size'] == 32 and first_phase['epochs'] == 1
    assert first_phase['val_accuracy_at_its_size'] == json.loads((small / 'metrics.json').read_text())['val_accuracy']
    with pytest.raises(TrainError, match='not a multiple of patch_size'):
        train(dataset, tmp_path / 'bad', *FAST, '--image-size', '40', '--teachers', '0', '--epochs', '1')


def test_position_embeddings_resample_to_another_grid() -> None:
    from model.deit import resize_pos_embed
    grid = torch.arange(16.0).reshape(1, 4, 4)
    prefix = torch.tensor([[[-1.0, -1.0], [-2.0, -2.0]]])  # two prefix tokens, D = 2
    patches = torch.stack([grid.flatten(1), 2 * grid.flatten(1)], dim=-1)  # [1, 16, 2]
    pos = torch.cat([prefix, patches], dim=1)
    bigger = resize_pos_embed(pos, 8, prefix_tokens=2)
    assert bigger.shape == (1, 2 + 64, 2)
    assert torch.equal(bigger[:, :2], prefix)  # prefix tokens untouched
    assert torch.allclose(bigger[0, 2:, 1], 2 * bigger[0, 2:, 0], atol=1e-5)  # channels resampled alike
    image = bigger[0, 2:, 0].reshape(8, 8)
    assert image[0, 0] < image[0, -1] < image[-1, -1]  # row-major layout kept: values grow right and down
    assert torch.equal(resize_pos_embed(pos, 4, prefix_tokens=2), pos)
    with pytest.raises(ValueError, match='square grid'):
        resize_pos_embed(pos[:, :-1], 8, prefix_tokens=2)
