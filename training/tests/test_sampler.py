import math

import torch

from pigkit.model.binarize import binarize
from pigkit.model.noise import gaussian
from pigkit.model.sampler import SeededNoise, TorchNoise, sample_image_from_mask, sample_pair, segment_image
from pigkit.model.schedule import Schedule
from pigkit.model.unet import build_unet

S = Schedule()
RES = 8


class Spy(torch.nn.Module):
    """A stand-in network with a known ε: a fixed fraction of its noisy target, inputs recorded."""

    def __init__(self, k):
        super().__init__()
        self.k, self.calls = k, []

    def forward(self, x, t):
        self.calls.append((x.clone(), float(t[0])))
        return self.k * x[:, :1]


def test_joint_loop_matches_formulas_by_hand():
    mx, my = Spy(0.3), Spy(-0.2)
    noise = SeededNoise([11], (RES, RES))
    res = sample_pair(mx, my, S, 2, noise, keep_frames=True)
    x = torch.from_numpy(gaussian(11, 0, RES * RES)).view(1, 1, RES, RES).double()
    y = torch.from_numpy(gaussian(11, 1, RES * RES)).view(1, 1, RES, RES).double()
    assert [f.t for f in res.frames] == [512, 0] and [f.t_prev for f in res.frames] == [0, -1]
    for i, (t, tp) in enumerate([(512, 0), (0, -1)]):
        a, ap = S.alpha_bar(t), S.alpha_bar(tp)
        ex = 0.3 * x
        x0 = (x - math.sqrt(1 - a) * ex) / math.sqrt(a)
        c = binarize(x0.float()).double()
        ey = -0.2 * y
        y0 = (y - math.sqrt(1 - a) * ey) / math.sqrt(a)
        assert torch.allclose(res.frames[i].x0.double(), x0, atol=1e-5)
        assert torch.equal(res.frames[i].c.double(), c)
        assert torch.equal(my.calls[i][0][:, 1:], res.frames[i].c)  # model_y saw B(x̂₀) of the same step
        assert torch.allclose(res.frames[i].y0.double(), y0, atol=1e-5)
        assert mx.calls[i][1] == my.calls[i][1] == float(t)
        x = math.sqrt(ap) * x0 + math.sqrt(1 - ap) * ex
        y = math.sqrt(ap) * y0 + math.sqrt(1 - ap) * ey
    assert torch.equal(res.mask, binarize(res.frames[-1].x0))
    assert torch.equal(res.image, res.frames[-1].y0)


def test_eta_draws_z_from_streams_2_and_3():
    mx, my = Spy(0.0), Spy(0.0)
    sample_pair(mx, my, S, 2, SeededNoise([3], (RES, RES)), eta=1.0, keep_frames=True)
    x = torch.from_numpy(gaussian(3, 0, RES * RES)).view(1, 1, RES, RES).double()
    k = S.ddim_coefficients(512, 0, 1.0)
    z = torch.from_numpy(gaussian(3, 2, RES * RES)).view(1, 1, RES, RES).double()
    x0 = x / k["sqrt_a_t"]
    x_prev = k["sqrt_a_prev"] * x0 + k["c1"] * z
    assert torch.allclose(mx.calls[1][0][:, :1].double(), x_prev, atol=1e-5)


def test_mask_to_image_uses_the_users_mask_every_step():
    my = Spy(0.1)
    mask = torch.where(torch.rand(1, 1, RES, RES) > 0.5, 1.0, -1.0)
    res = sample_image_from_mask(my, mask, S, 3, SeededNoise([1], (RES, RES)))
    assert len(my.calls) == 3 and all(torch.equal(c[0][:, 1:], mask) for c in my.calls)
    assert torch.equal(res.mask, mask) and res.x0 is None


def test_image_to_mask_renoises_the_image_with_one_fixed_eps():
    mx = Spy(0.1)
    image = torch.rand(1, 1, RES, RES) * 2 - 1
    res = segment_image(mx, image, S, 2, SeededNoise([5], (RES, RES)))
    eps = torch.from_numpy(gaussian(5, 4, RES * RES)).view(1, 1, RES, RES)
    for inp, t in mx.calls:
        a = S.alpha_bar(int(t))
        assert torch.allclose(inp[:, 1:], math.sqrt(a) * image + math.sqrt(1 - a) * eps, atol=1e-6)
    assert res.image is None and set(res.mask.unique().tolist()) <= {-1.0, 1.0}


def test_batched_torch_noise_runs_a_batch():
    mx, my = Spy(0.2), Spy(0.2)
    res = sample_pair(mx, my, S, 2, TorchNoise(3, (RES, RES), torch.Generator().manual_seed(0)))
    assert res.mask.shape == res.image.shape == (3, 1, RES, RES)


def test_clip_keeps_the_reference_loop_bit_exact_and_bounds_only_its_chains():
    torch.manual_seed(0)
    mx, my = build_unet("tiny", RES).eval(), build_unet("tiny", RES).eval()  # untrained: estimates far outside ±1
    run = {
        m: sample_pair(mx, my, S, 4, SeededNoise([5], (RES, RES)), eta=1.0, keep_frames=True, clip=m)
        for m in ("none", "image", "both")
    }
    ref = sample_pair(mx, my, S, 4, SeededNoise([5], (RES, RES)), eta=1.0, keep_frames=True)
    for a, b in zip(ref.frames, run["none"].frames):
        assert torch.equal(a.x0, b.x0) and torch.equal(a.y0, b.y0)
    assert max(f.y0.abs().max() for f in ref.frames) > 1  # so the test has something to clip
    # "image" leaves x̂₀ unclipped; the first step's is the reference's (later ones differ: model_x sees y_t)
    assert torch.equal(ref.frames[0].x0, run["image"].frames[0].x0)
    assert max(f.x0.abs().max() for f in run["image"].frames) > 1
    assert all(f.y0.abs().max() <= 1 for f in run["image"].frames)
    assert all(f.x0.abs().max() <= 1 and f.y0.abs().max() <= 1 for f in run["both"].frames)
    assert not torch.equal(run["both"].frames[-1].x0, ref.frames[-1].x0)


def test_the_loop_stays_on_the_models_device():
    """t is made where the chains live (a CPU t beside CUDA chains failed); "meta" stands in for a GPU
    (torch ≥ 2 checks it: this fails there without the fix, torch 1.13 lets it pass)."""
    mx, my = build_unet("tiny", RES).to("meta"), build_unet("tiny", RES).to("meta")
    res = sample_pair(mx, my, S, 2, TorchNoise(2, (RES, RES), device="meta"), eta=1.0, clip="both")
    assert res.image.device.type == "meta" and res.mask.shape == (2, 1, RES, RES)


def test_eta_and_steps_out_of_bounds_are_refused_before_any_model_runs():
    """η past 1 saturates the chains (pigkit.limits): the loop refuses it, and steps past T, first."""
    import pytest

    mx, my = Spy(0.3), Spy(-0.2)
    for eta in (1.5, 1e30, -0.1, math.nan, math.inf, True):
        with pytest.raises(ValueError, match=r"eta must be a number from 0 \(deterministic DDIM\) to 1 \(DDPM-like\)"):
            sample_pair(mx, my, S, 2, SeededNoise([1], (RES, RES)), eta=eta)
    with pytest.raises(ValueError, match=r"steps must be in \[1, 1024\], got 2000"):
        sample_pair(mx, my, S, 2000, SeededNoise([1], (RES, RES)))
    assert mx.calls == [] and my.calls == []
