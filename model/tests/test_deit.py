"""model/deit.py: timm-compatible parameter names/shapes, checkpoint loading and its errors, forward modes,
and the cache forward agreeing with the plain one."""
from __future__ import annotations

import pytest
import torch

from model.deit import DeiT, DeiTConfig, infer_config, load_checkpoint, normalize, preset, save_checkpoint


def timm_deit_tiny_shapes(distilled: bool, classes: int = 1000) -> dict:
    """The state_dict layout of timm's deit_tiny_patch16_224 / deit_tiny_distilled_patch16_224, written out."""
    d, hidden, tokens = 192, 768, 197 + (1 if distilled else 0)
    shapes = {"cls_token": (1, 1, d), "pos_embed": (1, tokens, d),
              "patch_embed.proj.weight": (d, 3, 16, 16), "patch_embed.proj.bias": (d,),
              "norm.weight": (d,), "norm.bias": (d,), "head.weight": (classes, d), "head.bias": (classes,)}
    if distilled:
        shapes.update({"dist_token": (1, 1, d), "head_dist.weight": (classes, d), "head_dist.bias": (classes,)})
    for i in range(12):
        p = f"blocks.{i}."
        shapes.update({p + "norm1.weight": (d,), p + "norm1.bias": (d,),
                       p + "attn.qkv.weight": (3 * d, d), p + "attn.qkv.bias": (3 * d,),
                       p + "attn.proj.weight": (d, d), p + "attn.proj.bias": (d,),
                       p + "norm2.weight": (d,), p + "norm2.bias": (d,),
                       p + "mlp.fc1.weight": (hidden, d), p + "mlp.fc1.bias": (hidden,),
                       p + "mlp.fc2.weight": (d, hidden), p + "mlp.fc2.bias": (d,)})
    return shapes


@pytest.mark.parametrize("distilled", [False, True])
def test_state_dict_matches_timm_layout(distilled: bool) -> None:
    model = DeiT(DeiTConfig(distilled=distilled, num_classes=1000))
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == timm_deit_tiny_shapes(distilled)
    assert model.config.architecture == ("deit_tiny_distilled_patch16_224" if distilled else "deit_tiny_patch16_224")


@pytest.mark.parametrize("wrap", ["raw", "model", "ours"])
def test_timm_style_checkpoint_loads_as_is(tmp_path, wrap: str) -> None:
    source = DeiT(DeiTConfig(num_classes=1000)).eval()
    state = source.state_dict()
    path = str(tmp_path / "ck.pt")
    if wrap == "raw":
        torch.save(state, path)
    elif wrap == "model":
        torch.save({"model": state}, path)
    else:
        save_checkpoint(path, DeiT(preset("micro")), ["a", "b", "c"], {"val_accuracy": 0.5}, {"summary": "x"})
    model, ckpt = load_checkpoint(path)
    if wrap == "ours":
        assert model.config == preset("micro") and ckpt["labels"] == ["a", "b", "c"]
        return
    assert model.config == DeiTConfig(num_classes=1000)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(model(x), source(x))


def test_checkpoint_errors_are_one_line(tmp_path) -> None:
    path = str(tmp_path / "ck.pt")
    torch.save({"model": DeiT(preset("micro")).state_dict(), "config": preset("micro").to_dict()}, path)
    with pytest.raises(ValueError, match=r"^.*architecture mismatch[^\n]*$"):
        load_checkpoint(path, config=preset("micro-distilled"))
    with pytest.raises(ValueError, match=r"class-count mismatch at head.weight"):
        load_checkpoint(path, config=preset("micro", num_classes=5))
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        load_checkpoint(str(tmp_path / "missing.pt"))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read checkpoint"):
        load_checkpoint(str(tmp_path / "junk.pt"))
    # A new class count on purpose: the head is dropped and re-initialised, the backbone kept.
    model, _ = load_checkpoint(path, num_classes=5)
    assert model.head.weight.shape == (5, 48)


def test_infer_config_reads_shapes() -> None:
    for name in ("tiny", "tiny-distilled"):
        cfg = preset(name)
        assert infer_config(DeiT(cfg).state_dict()) == cfg


def test_distilled_forward_modes_and_head_matrix() -> None:
    model = DeiT(preset("micro-distilled"))
    x = torch.randn(2, 3, 64, 64)
    model.train()
    cls_logits, dist_logits = model(x)
    model.eval()
    with torch.no_grad():
        mean = model(x)
        feats = model.forward_features(x)
        weight, bias = model.head_matrix()
    torch.testing.assert_close(mean, (cls_logits + dist_logits).detach() / 2)
    assert feats.shape == (2, model.config.features)
    torch.testing.assert_close(feats @ weight.t() + bias, mean)


@pytest.mark.parametrize("name", ["micro", "micro-distilled"])
def test_cache_forward_matches_plain_forward(name: str) -> None:
    model = DeiT(preset(name)).eval()
    cfg = model.config
    x = normalize(torch.rand(2, 3, cfg.image_size, cfg.image_size))
    with torch.no_grad():
        feats, cache = model.forward_with_cache(x)
        torch.testing.assert_close(feats, model.forward_features(x))
    blocks = cache["blocks"]
    assert len(blocks) == cfg.depth
    n, h = cfg.tokens, cfg.heads
    for c, block in zip(blocks, model.blocks):
        assert c["attn"].shape == (2, h, n, n)
        torch.testing.assert_close(c["attn"].sum(-1), torch.ones(2, h, n))
        torch.testing.assert_close(c["ln1_out"], block.norm1(c["x_in"]))
        torch.testing.assert_close(c["ln2_out"], block.norm2(c["x_mid"]))
        torch.testing.assert_close(c["x_out"], block(c["x_in"]))
        torch.testing.assert_close(c["x_mid"], c["x_in"] + c["proj_out"])
        assert c["fc1_out"].shape == (2, n, cfg.hidden_dim)
    torch.testing.assert_close(cache["final_out"], model.norm(cache["final_in"]))


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="multiple of patch_size"):
        DeiTConfig(image_size=100, patch_size=16)
    with pytest.raises(ValueError, match="divisible by heads"):
        DeiTConfig(embed_dim=50, heads=3)
    with pytest.raises(ValueError, match="unknown config"):
        preset("huge")
