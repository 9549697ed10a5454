import torch

from pigkit.exporter.stepgraph import ImageStep, MaskStep
from pigkit.model.binarize import binarize
from pigkit.model.sampler import SeededNoise, sample_pair
from pigkit.model.schedule import COEFFICIENT_ORDER, Schedule
from pigkit.model.unet import build_unet

S = Schedule()


def test_step_graphs_replay_the_reference_sampler():
    """Chaining the step modules with coefficients from the schedule reproduces sample_pair."""
    torch.manual_seed(0)
    mx, my = build_unet("tiny", 16).eval(), build_unet("tiny", 16).eval()
    noise = SeededNoise([9], (16, 16))
    ref = sample_pair(mx, my, S, 3, noise, keep_frames=True)
    mask_step, image_step = MaskStep(mx), ImageStep(my)
    x, y, z = noise.initial(0), noise.initial(1), torch.zeros(1, 1, 16, 16)
    with torch.no_grad():
        for frame, (t, tp) in zip(ref.frames, S.ddim_pairs(3)):
            k = S.ddim_coefficients(t, tp, 0.0)
            kv = torch.tensor([k[c] for c in COEFFICIENT_ORDER], dtype=torch.float32)
            tt = torch.tensor([float(t)])
            x, x0, c = mask_step(x, y, tt, kv, z, torch.tensor([0.0]))
            y, y0 = image_step(y, c, tt, kv, z, torch.tensor([0.0]))
            assert torch.allclose(x0, frame.x0, atol=1e-5) and torch.allclose(y0, frame.y0, atol=1e-5)
            assert torch.equal(c, frame.c) and torch.equal(c, binarize(x0))


def test_step_graphs_clip_flag_replays_the_clipped_sampler():
    """clip = 1 in both graphs reproduces sample_pair(clip="both"); clip = 0 the reference loop."""
    torch.manual_seed(1)
    mx, my = build_unet("tiny", 16).eval(), build_unet("tiny", 16).eval()
    for flag, mode in ((1.0, "both"), (0.0, "none")):
        noise = SeededNoise([9], (16, 16))
        ref = sample_pair(mx, my, S, 3, noise, keep_frames=True, clip=mode)
        mask_step, image_step = MaskStep(mx), ImageStep(my)
        x, y, z, clip = noise.initial(0), noise.initial(1), torch.zeros(1, 1, 16, 16), torch.tensor([flag])
        with torch.no_grad():
            for frame, (t, tp) in zip(ref.frames, S.ddim_pairs(3)):
                k = S.ddim_coefficients(t, tp, 0.0)
                kv = torch.tensor([k[c] for c in COEFFICIENT_ORDER], dtype=torch.float32)
                tt = torch.tensor([float(t)])
                x, x0, c = mask_step(x, y, tt, kv, z, clip)
                y, y0 = image_step(y, c, tt, kv, z, clip)
                assert torch.allclose(x0, frame.x0, atol=1e-5) and torch.allclose(y0, frame.y0, atol=1e-5)
                assert torch.equal(c, frame.c)
