"""DeiT (data-efficient image transformer) in plain PyTorch.

Parameter names and shapes are those of timm's ``deit_tiny_patch16_224`` and
``deit_tiny_distilled_patch16_224`` so a timm checkpoint file loads unchanged:

    cls_token [1,1,D], dist_token [1,1,D] (distilled), pos_embed [1,N,D],
    patch_embed.proj.{weight [D,3,P,P], bias [D]},
    blocks.i.norm1, blocks.i.attn.qkv [3D,D], blocks.i.attn.proj [D,D], blocks.i.norm2,
    blocks.i.mlp.fc1 [4D,D], blocks.i.mlp.fc2 [D,4D], norm, head [C,D], head_dist [C,D] (distilled).

The model takes *normalised* images (``normalize`` below); the export graph (``model/graph.py``)
takes pixels in [0,1] and normalises inside.

Checkpoint format (written by train.py, read by export.py)::

    torch.save({'model': state_dict, 'config': asdict(config), 'labels': [...],
                'metrics': {...}, 'recipe': {...}}, path)
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# timm builds DeiT with LayerNorm(eps=1e-6); a different eps would silently change a loaded checkpoint.
LN_EPS = 1e-6


@dataclass(frozen=True)
class DeiTConfig:
    image_size: int = 224
    patch_size: int = 16
    embed_dim: int = 192
    depth: int = 12
    heads: int = 3
    mlp_ratio: float = 4.0
    distilled: bool = False
    num_classes: int = 3

    def __post_init__(self) -> None:
        if self.image_size % self.patch_size != 0:
            raise ValueError(f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}")
        if self.embed_dim % self.heads != 0:
            raise ValueError(f"embed_dim {self.embed_dim} is not divisible by heads {self.heads}")
        if self.num_classes < 1 or self.depth < 1:
            raise ValueError("num_classes and depth must be positive")

    @property
    def grid_size(self) -> int:
        return self.image_size // self.patch_size

    @property
    def prefix_tokens(self) -> int:
        return 2 if self.distilled else 1

    @property
    def tokens(self) -> int:
        return self.grid_size ** 2 + self.prefix_tokens

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.heads

    @property
    def hidden_dim(self) -> int:
        return int(self.embed_dim * self.mlp_ratio)

    @property
    def features(self) -> int:
        """Width of the exported ``features`` output: CLS (and DIST) embeddings concatenated."""
        return self.embed_dim * self.prefix_tokens

    @property
    def architecture(self) -> str:
        tiny = (self.image_size, self.patch_size, self.embed_dim, self.depth, self.heads, self.mlp_ratio) == (
            224, 16, 192, 12, 3, 4.0)
        if not tiny:
            return "deit_custom"
        return "deit_tiny_distilled_patch16_224" if self.distilled else "deit_tiny_patch16_224"

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "DeiTConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


PRESETS: Dict[str, DeiTConfig] = {
    "tiny": DeiTConfig(),
    "tiny-distilled": DeiTConfig(distilled=True),
    # Test configs: same token count as tiny (224/16 → 197) but a narrow, shallow body.
    "micro": DeiTConfig(image_size=224, patch_size=16, embed_dim=48, depth=4, heads=3),
    # The committed test fixtures (public/models/fixture-*): 197 tokens like tiny but L·H = 3, so each
    # expected [L,1,H,N,N] output is 466 KB and the fixture folder stays < 3 MB; the distilled one has
    # several heads, and L ≠ H so a swapped axis shows.
    "fixture-micro": DeiTConfig(image_size=224, patch_size=16, embed_dim=48, depth=3, heads=1),
    "fixture-micro-distilled": DeiTConfig(image_size=64, patch_size=16, embed_dim=48, depth=2, heads=3,
                                          distilled=True),
    # Distilled test config on a small image: 64/16 → 16 patches + 2 prefix tokens.
    "micro-distilled": DeiTConfig(image_size=64, patch_size=16, embed_dim=48, depth=3, heads=3, distilled=True),
}


def preset(name: str, **overrides: Any) -> DeiTConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown config '{name}' (known: {', '.join(PRESETS)})")
    data = PRESETS[name].to_dict()
    data.update(overrides)
    return DeiTConfig(**data)


def normalize(pixels: Tensor) -> Tensor:
    """[B,3,S,S] RGB in [0,1] → ImageNet-normalised input of ``DeiT.forward``."""
    mean = pixels.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = pixels.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (pixels - mean) / std


class PatchEmbed(nn.Module):
    def __init__(self, config: DeiTConfig) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, config.embed_dim, kernel_size=config.patch_size, stride=config.patch_size)

    def forward(self, x: Tensor) -> Tensor:
        # [B,D,G,G] → [B,G²,D], patches row-major.
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, config: DeiTConfig) -> None:
        super().__init__()
        self.heads = config.heads
        self.scale = config.head_dim ** -0.5
        self.qkv = nn.Linear(config.embed_dim, 3 * config.embed_dim)
        self.proj = nn.Linear(config.embed_dim, config.embed_dim)

    def split_qkv(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        return qkv[0], qkv[1], qkv[2]  # each [B,H,N,hd]

    def forward(self, x: Tensor) -> Tensor:
        q, k, v = self.split_qkv(x)
        probs = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        b, n, d = x.shape
        return self.proj((probs @ v).transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, config: DeiTConfig) -> None:
        super().__init__()
        self.fc1 = nn.Linear(config.embed_dim, config.hidden_dim)
        self.fc2 = nn.Linear(config.hidden_dim, config.embed_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, config: DeiTConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.embed_dim, eps=LN_EPS)
        self.attn = Attention(config)
        self.norm2 = nn.LayerNorm(config.embed_dim, eps=LN_EPS)
        self.mlp = Mlp(config)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def layer_norm_parts(x: Tensor, norm: nn.LayerNorm) -> Tuple[Tensor, Tensor, Tensor]:
    """Returns (norm(x), x̂ = (x-μ)·rstd, rstd [...,1]).

    The output is ``norm(x)`` itself (one LayerNormalization op in ONNX, so the forward-only graph stays
    small); x̂ and rstd are computed beside it for the backward pass and LRP, which the forward graph prunes."""
    mu = x.mean(dim=-1, keepdim=True)
    centred = x - mu
    var = (centred * centred).mean(dim=-1, keepdim=True)
    rstd = torch.rsqrt(var + norm.eps)
    return norm(x), centred * rstd, rstd


class DeiT(nn.Module):
    def __init__(self, config: DeiTConfig) -> None:
        super().__init__()
        self.config = config
        d = config.embed_dim
        self.patch_embed = PatchEmbed(config)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, d)) if config.distilled else None
        self.pos_embed = nn.Parameter(torch.zeros(1, config.tokens, d))
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.depth)])
        self.norm = nn.LayerNorm(d, eps=LN_EPS)
        self.head = nn.Linear(d, config.num_classes)
        self.head_dist = nn.Linear(d, config.num_classes) if config.distilled else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # DeiT's init: truncated normal std .02 for tokens, position embedding and linear weights.
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        if self.dist_token is not None:
            nn.init.trunc_normal_(self.dist_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    # ---- forward pieces -------------------------------------------------------------------
    def embed(self, x: Tensor) -> Tensor:
        """Normalised images [B,3,S,S] → block-0 input tokens [B,N,D]: [CLS, (DIST), patches] + pos."""
        patches = self.patch_embed(x)
        prefix = [self.cls_token]
        if self.dist_token is not None:
            prefix.append(self.dist_token)
        if not torch.jit.is_tracing():
            # The ONNX export has batch 1 by contract; skipping expand there keeps shape ops (Shape,
            # ConstantOfShape) out of the graph.
            prefix = [t.expand(patches.shape[0], -1, -1) for t in prefix]
        return torch.cat(prefix + [patches], dim=1) + self.pos_embed

    def forward_features(self, x: Tensor) -> Tensor:
        """Features [B,F]: final-LayerNorm'd CLS (then DIST) embeddings, concatenated."""
        t = self.embed(x)
        for block in self.blocks:
            t = block(t)
        t = self.norm(t)
        return t[:, : self.config.prefix_tokens].flatten(1)

    def head_matrix(self) -> Tuple[Tensor, Tensor]:
        """The classifier as one linear map over ``features``: (weight [C,F], bias [C]).

        Distilled: logits = (head(cls) + head_dist(dist)) / 2 = [W/2, W_dist/2]·[cls; dist] + (b + b_dist)/2,
        which is exactly what the exported head computes from the concatenated features."""
        if self.head_dist is None:
            return self.head.weight, self.head.bias
        weight = torch.cat([self.head.weight, self.head_dist.weight], dim=1) * 0.5
        return weight, (self.head.bias + self.head_dist.bias) * 0.5

    def forward(self, x: Tensor):  # type: ignore[override]
        """Logits [B,C]. Distilled in training mode: the tuple (cls_logits, dist_logits); in eval: their mean."""
        feats = self.forward_features(x)
        d = self.config.embed_dim
        logits = self.head(feats[:, :d])
        if self.head_dist is None:
            return logits
        dist_logits = self.head_dist(feats[:, d:])
        if self.training:
            return logits, dist_logits
        return (logits + dist_logits) * 0.5

    def forward_with_cache(self, x: Tensor, keep_grad: bool = False) -> Tuple[Tensor, Dict[str, Any]]:
        """Forward pass that records every intermediate the explicit backward and LRP need.

        ``x`` is the normalised image [B,3,S,S]. Returns (features [B,F], cache). Logits are left to the
        caller because the export graph takes the head as an input (``head_matrix()`` gives this model's).

        cache keys (B batch, N tokens, D embed_dim, H heads, hd = D/H, M = mlp hidden = 4D, P prefix tokens):
          'input'       [B,3,S,S]  the normalised image
          'patches'     [B,G²,D]   patch embedding output (before prefix tokens and position embedding)
          'tokens'      [B,N,D]    block-0 input: [CLS, (DIST), patches] + pos_embed
          'blocks'      list, one dict per block, block 0 first:
              'x_in'      [B,N,D]    block input = norm1 input
              'ln1_xhat'  [B,N,D]    (x_in - mean) * rstd
              'ln1_rstd'  [B,N,1]    1/sqrt(var + eps)
              'ln1_out'   [B,N,D]    norm1 output (= xhat * gamma + beta), the qkv input
              'q','k','v' [B,H,N,hd] query/key/value per head (q NOT yet scaled)
              'scale'     float      hd ** -0.5, applied to q before q·kᵀ
              'scores'    [B,H,N,N]  scaled q·kᵀ (softmax input)
              'attn'      [B,H,N,N]  softmax probabilities A
              'ctx_heads' [B,H,N,hd] A·V per head
              'ctx'       [B,N,D]    A·V with heads merged (the proj input)
              'proj_out'  [B,N,D]    attention branch output
              'x_mid'     [B,N,D]    x_in + proj_out = norm2 input
              'ln2_xhat', 'ln2_rstd', 'ln2_out'  as for norm1 (ln2_out is the fc1 input)
              'fc1_out'   [B,N,M]    fc1 pre-activation
              'gelu_out'  [B,N,M]    exact (erf) GELU of fc1_out, the fc2 input
              'fc2_out'   [B,N,D]    MLP branch output
              'x_out'     [B,N,D]    x_mid + fc2_out = block output
          'final_in'    [B,N,D]    last block output = final norm input
          'final_xhat', 'final_rstd', 'final_out'  the final LayerNorm, as above, over all tokens
          'features'    [B,F]      final_out's P prefix tokens concatenated (CLS, then DIST)

        With ``keep_grad`` each 'attn' calls ``retain_grad()`` so tests can read autograd's ∂s/∂A.
        """
        cfg = self.config
        cache: Dict[str, Any] = {"input": x}
        patches = self.patch_embed(x)
        cache["patches"] = patches
        t = self.embed(x)
        cache["tokens"] = t
        blocks: List[Dict[str, Any]] = []
        b, n, d = t.shape
        for block in self.blocks:
            c: Dict[str, Any] = {"x_in": t}
            ln1, c["ln1_xhat"], c["ln1_rstd"] = layer_norm_parts(t, block.norm1)
            c["ln1_out"] = ln1
            q, k, v = block.attn.split_qkv(ln1)
            c["q"], c["k"], c["v"], c["scale"] = q, k, v, block.attn.scale
            scores = (q * block.attn.scale) @ k.transpose(-2, -1)
            c["scores"] = scores
            attn = scores.softmax(dim=-1)
            if keep_grad:
                attn.retain_grad()
            c["attn"] = attn
            ctx_heads = attn @ v
            c["ctx_heads"] = ctx_heads
            ctx = ctx_heads.transpose(1, 2).reshape(b, n, d)
            c["ctx"] = ctx
            c["proj_out"] = block.attn.proj(ctx)
            x_mid = t + c["proj_out"]
            c["x_mid"] = x_mid
            ln2, c["ln2_xhat"], c["ln2_rstd"] = layer_norm_parts(x_mid, block.norm2)
            c["ln2_out"] = ln2
            c["fc1_out"] = block.mlp.fc1(ln2)
            c["gelu_out"] = F.gelu(c["fc1_out"])
            c["fc2_out"] = block.mlp.fc2(c["gelu_out"])
            t = x_mid + c["fc2_out"]
            c["x_out"] = t
            blocks.append(c)
        cache["blocks"] = blocks
        cache["final_in"] = t
        out, cache["final_xhat"], cache["final_rstd"] = layer_norm_parts(t, self.norm)
        cache["final_out"] = out
        feats = out[:, : cfg.prefix_tokens].flatten(1)
        cache["features"] = feats
        return feats, cache


# ---- checkpoints ---------------------------------------------------------------------------

def infer_config(state_dict: Dict[str, Tensor], num_classes: Optional[int] = None) -> DeiTConfig:
    """Reads the architecture off a (timm or our) state_dict's shapes."""
    try:
        d = state_dict["cls_token"].shape[-1]
        proj = state_dict["patch_embed.proj.weight"]
        tokens = state_dict["pos_embed"].shape[1]
        depth = 1 + max(int(k.split(".")[1]) for k in state_dict if k.startswith("blocks."))
        hidden = state_dict["blocks.0.mlp.fc1.weight"].shape[0]
        head = state_dict["head.weight"]
    except KeyError as missing:
        raise ValueError(f"not a DeiT state_dict: missing key {missing}") from None
    distilled = "dist_token" in state_dict
    patch = proj.shape[-1]
    grid = math.isqrt(tokens - (2 if distilled else 1))
    # Heads are not visible in the shapes; DeiT-tiny/small/base use D/64 heads.
    heads = max(1, d // 64)
    return DeiTConfig(image_size=grid * patch, patch_size=patch, embed_dim=d, depth=depth, heads=heads,
                      mlp_ratio=hidden / d, distilled=distilled,
                      num_classes=num_classes if num_classes is not None else head.shape[0])


def load_checkpoint(path: str, config: Optional[DeiTConfig] = None, num_classes: Optional[int] = None,
                    map_location: str = "cpu", image_size: Optional[int] = None) -> Tuple[DeiT, Dict[str, Any]]:
    """Loads our checkpoint ({'model', 'config', ...}), a {'model': state_dict} file, or a raw timm state_dict.

    Returns (model in eval mode, the checkpoint dict with at least 'config' filled in). ``config`` (or the
    checkpoint's own) fixes the architecture; a mismatching state_dict raises a one-line ValueError.
    ``num_classes`` different from the checkpoint's head drops the head (new, randomly initialised head).
    ``image_size`` different from the checkpoint's resamples its position embeddings (resize_pos_embed), so a
    model trained on small images can be fine-tuned and exported at full size.
    """
    try:
        raw = torch.load(path, map_location=map_location)
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint not found: {path}") from None
    except Exception as err:  # pickle/zip errors: say which file, in one line
        raise ValueError(f"cannot read checkpoint {path}: {type(err).__name__}: {err}") from None
    if isinstance(raw, dict) and isinstance(raw.get("model"), dict):
        ckpt = dict(raw)
        state = raw["model"]
    elif isinstance(raw, dict) and isinstance(raw.get("state_dict"), dict):
        ckpt = {"model": raw["state_dict"]}
        state = raw["state_dict"]
    elif isinstance(raw, dict) and all(isinstance(v, torch.Tensor) for v in raw.values()):
        ckpt = {"model": raw}
        state = raw
    else:
        raise ValueError(f"{path}: not a DeiT checkpoint (expected a state_dict or {{'model': state_dict}})")
    # timm state_dicts may carry a 'module.' prefix from DataParallel.
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    own = DeiTConfig.from_dict(ckpt["config"]) if isinstance(ckpt.get("config"), dict) else infer_config(state)
    if config is None:
        config = own
    elif image_size is not None:
        raise ValueError("pass either config or image_size to load_checkpoint, not both")
    if image_size is not None and image_size != config.image_size:
        config = DeiTConfig.from_dict({**config.to_dict(), "image_size": image_size})
    # Only a change of input size is resampled; any other difference is an architecture mismatch, reported below.
    same_body = (own.patch_size, own.prefix_tokens, own.embed_dim) == (config.patch_size, config.prefix_tokens, config.embed_dim)
    if "pos_embed" in state and config.image_size != own.image_size and same_body:
        state = {**state, "pos_embed": resize_pos_embed(state["pos_embed"], config.grid_size, config.prefix_tokens)}
    if num_classes is not None and num_classes != config.num_classes:
        config = DeiTConfig.from_dict({**config.to_dict(), "num_classes": num_classes})
        state = {k: v for k, v in state.items() if not k.startswith(("head.", "head_dist."))}
    model = DeiT(config)
    check_state_dict(model, state, path)
    model.load_state_dict(state, strict=False)
    model.eval()
    ckpt["config"] = config.to_dict()
    ckpt["model"] = state
    return model, ckpt


def resize_pos_embed(pos_embed: Tensor, grid: int, prefix_tokens: int) -> Tensor:
    """[1, prefix + g², D] → [1, prefix + grid², D]: the patch part resampled bicubically as a g×g image
    (the usual way to move a ViT to another resolution); the prefix tokens' embeddings are kept."""
    prefix, patches = pos_embed[:, :prefix_tokens], pos_embed[:, prefix_tokens:]
    old = math.isqrt(patches.shape[1])
    if old * old != patches.shape[1]:
        raise ValueError(f"pos_embed has {patches.shape[1]} patch positions, not a square grid")
    if old == grid:
        return pos_embed
    d = patches.shape[-1]
    image = patches.reshape(1, old, old, d).permute(0, 3, 1, 2).float()
    image = F.interpolate(image, size=(grid, grid), mode="bicubic", align_corners=False)
    patches = image.permute(0, 2, 3, 1).reshape(1, grid * grid, d).to(pos_embed.dtype)
    return torch.cat([prefix, patches], dim=1)


def check_state_dict(model: DeiT, state: Dict[str, Tensor], source: str = "checkpoint") -> None:
    """One-line errors for architecture or class-count mismatch (missing head keys are allowed: new head)."""
    expected = model.state_dict()
    unexpected = sorted(set(state) - set(expected))
    if unexpected:
        raise ValueError(f"{source}: architecture mismatch, unexpected keys {unexpected[:4]}"
                         f"{' …' if len(unexpected) > 4 else ''}")
    missing = sorted(k for k in set(expected) - set(state) if not k.startswith(("head.", "head_dist.")))
    if missing:
        raise ValueError(f"{source}: architecture mismatch, missing keys {missing[:4]}"
                         f"{' …' if len(missing) > 4 else ''}")
    for key, value in state.items():
        want = tuple(expected[key].shape)
        if tuple(value.shape) != want:
            what = "class-count" if key.startswith(("head.", "head_dist.")) else "architecture"
            raise ValueError(f"{source}: {what} mismatch at {key}: checkpoint {tuple(value.shape)}, model {want}")


def save_checkpoint(path: str, model: DeiT, labels: List[str], metrics: Optional[Dict[str, Any]] = None,
                    recipe: Optional[Dict[str, Any]] = None) -> None:
    """Writes the checkpoint format above atomically (temp file, then rename)."""
    from model.common import atomic_write  # local import: deit.py stays importable on its own

    if len(labels) != model.config.num_classes:
        raise ValueError(f"{len(labels)} labels for a model with {model.config.num_classes} classes")
    payload = {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
               "config": model.config.to_dict(), "labels": list(labels),
               "metrics": metrics or {}, "recipe": recipe or {}}
    with atomic_write(path) as tmp:
        torch.save(payload, tmp)
