"""The DDPM U-Net of PIG (METHOD.md, "The two networks"), short enough to read in one sitting.

Input: the channel concatenation [noisy target, condition]; output: ε for the noisy target.
`t` enters as the float value of the integer step through a sinusoidal embedding.
The optional `hint` path is Siamese-Diffusion's extra condition (a zero-initialised convolution
whose output is added after the stem); exported models never use it, so the contract stays
`(x, t) -> eps`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class UNetConfig:
    ch: int = 32
    ch_mult: tuple[int, ...] = (1, 1, 2, 2, 4, 4)
    num_res_blocks: int = 2
    attn_resolutions: tuple[int, ...] = (16,)
    groups: int = 32
    dropout: float = 0.0
    in_channels: int = 2
    out_channels: int = 1
    hint_channels: int = 0
    attributes: tuple[int, ...] = ()  # values per attribute (pigkit.attributes); () = no attribute input

    def to_dict(self) -> dict:
        return asdict(self)


# `paper` is PIG's exact configuration (about 7.1 M parameters); the others trade capacity for speed.
PRESETS: dict[str, UNetConfig] = {
    "paper": UNetConfig(),
    "small": UNetConfig(ch=32, ch_mult=(1, 2, 2, 4), num_res_blocks=1, attn_resolutions=(16,)),
    # what a 2-core CPU can train at 64² in an afternoon: about 5× the images/s of `small`
    "compact": UNetConfig(ch=24, ch_mult=(1, 2, 2, 4), num_res_blocks=1, attn_resolutions=(16,), groups=8),
    "tiny": UNetConfig(ch=16, ch_mult=(1, 2), num_res_blocks=1, attn_resolutions=(16,), groups=8),
}


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of the DDPM reference (sin half, then cos half)."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32, device=t.device) * -(math.log(10000.0) / (half - 1)))
    args = t.float().view(-1, 1) * freqs.view(1, -1)
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, temb: int, groups: int, dropout: float):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-6)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-6)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    def __init__(self, ch: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch, eps=1e-6)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, hgt, wid = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, hgt * wid).unbind(1)
        w = torch.softmax(torch.bmm(q.transpose(1, 2), k) * (c**-0.5), dim=-1)  # [b, hw, hw]
        h = torch.bmm(v, w.transpose(1, 2)).reshape(b, c, hgt, wid)
        return x + self.proj(h)


class Downsample(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))  # the DDPM reference's asymmetric padding


class Upsample(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class UNet(nn.Module):
    def __init__(self, cfg: UNetConfig, resolution: int):
        super().__init__()
        levels = len(cfg.ch_mult)
        if resolution % (2 ** (levels - 1)):
            raise ValueError(f"resolution {resolution} is not divisible by 2^{levels - 1} for {levels} levels")
        self.cfg, self.resolution = cfg, resolution
        temb = 4 * cfg.ch
        self.temb = nn.Sequential(nn.Linear(cfg.ch, temb), nn.SiLU(), nn.Linear(temb, temb))
        # the attributes' embeddings, one row per value of each (row 0 of each block = "none"), read
        # as one-hot @ table: the sum of one row per attribute, and in ONNX a MatMul on a float
        # input (no integer tensors for the browser's GPU). Zeros: training starts unconditional.
        self.attr_table = nn.Parameter(torch.zeros(sum(n + 1 for n in cfg.attributes), temb)) if cfg.attributes else None
        self.conv_in = nn.Conv2d(cfg.in_channels, cfg.ch, 3, padding=1)
        self.hint_in = None
        if cfg.hint_channels:
            self.hint_in = nn.Conv2d(cfg.hint_channels, cfg.ch, 3, padding=1)
            nn.init.zeros_(self.hint_in.weight)  # a zero convolution: the hint starts with no effect
            nn.init.zeros_(self.hint_in.bias)

        block = lambda cin, cout: ResBlock(cin, cout, temb, cfg.groups, cfg.dropout)  # noqa: E731
        skips, cur, res = [cfg.ch], cfg.ch, resolution
        self.down = nn.ModuleList()
        for i, mult in enumerate(cfg.ch_mult):
            for _ in range(cfg.num_res_blocks):
                layer = nn.ModuleList([block(cur, cfg.ch * mult)])
                cur = cfg.ch * mult
                if res in cfg.attn_resolutions:
                    layer.append(AttnBlock(cur, cfg.groups))
                self.down.append(layer)
                skips.append(cur)
            if i != levels - 1:
                self.down.append(nn.ModuleList([Downsample(cur)]))
                skips.append(cur)
                res //= 2
        self.mid = nn.ModuleList([block(cur, cur), AttnBlock(cur, cfg.groups), block(cur, cur)])
        self.up = nn.ModuleList()
        for i, mult in reversed(list(enumerate(cfg.ch_mult))):
            for _ in range(cfg.num_res_blocks + 1):
                layer = nn.ModuleList([block(cur + skips.pop(), cfg.ch * mult)])
                cur = cfg.ch * mult
                if res in cfg.attn_resolutions:
                    layer.append(AttnBlock(cur, cfg.groups))
                self.up.append(layer)
            if i != 0:
                self.up.append(nn.ModuleList([Upsample(cur)]))
                res *= 2
        self.norm_out = nn.GroupNorm(cfg.groups, cur, eps=1e-6)
        self.conv_out = nn.Conv2d(cur, cfg.out_channels, 3, padding=1)

    @staticmethod
    def _run(layer: nn.ModuleList, h: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        for m in layer:
            h = m(h, temb) if isinstance(m, ResBlock) else m(h)
        return h

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        hint: torch.Tensor | None = None,
        hint_scale: float = 1.0,
        attrs: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`attrs` (a U-Net built with attributes): [B, k] int64 indices (0 = none), or their one-hot
        float [B, Σ(nᵢ + 1)] (the exported graphs' input); None = all "none"."""
        temb = self.temb(timestep_embedding(t, self.cfg.ch))
        if attrs is not None:
            if self.attr_table is None:
                raise ValueError("this U-Net was built without attributes")
            onehot = attrs if attrs.is_floating_point() else attribute_onehot(attrs, self.cfg.attributes)
            temb = temb + onehot @ self.attr_table
        h = self.conv_in(x)
        if hint is not None:
            if self.hint_in is None:
                raise ValueError("this U-Net was built without a hint path")
            h = h + hint_scale * self.hint_in(hint)
        hs = [h]
        for layer in self.down:
            h = self._run(layer, h, temb)
            hs.append(h)
        for m in self.mid:
            h = m(h, temb) if isinstance(m, ResBlock) else m(h)
        for layer in self.up:
            if isinstance(layer[0], ResBlock):
                h = torch.cat([h, hs.pop()], dim=1)
            h = self._run(layer, h, temb)
        return self.conv_out(F.silu(self.norm_out(h)))


def attribute_onehot(attrs: torch.Tensor, sizes: tuple[int, ...]) -> torch.Tensor:
    """[B, k] indices (0 = none) → [B, Σ(nᵢ + 1)] float one-hot, one block per attribute."""
    if attrs.shape[-1] != len(sizes):
        raise ValueError(f"expected {len(sizes)} attribute(s), got {attrs.shape[-1]}")
    return torch.cat([F.one_hot(attrs[:, i], n + 1) for i, n in enumerate(sizes)], dim=1).float()


def build_unet(preset: str, resolution: int, **overrides) -> UNet:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    cfg = PRESETS[preset]
    if overrides:
        cfg = UNetConfig(**{**cfg.to_dict(), **overrides})
    return UNet(cfg, resolution)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
