import math

import torch

from pigkit.model.unet import PRESETS, build_unet, count_parameters, timestep_embedding


def test_paper_preset_is_pigs_configuration():
    cfg = PRESETS["paper"]
    assert (cfg.ch, cfg.ch_mult, cfg.num_res_blocks, cfg.attn_resolutions, cfg.groups) == (32, (1, 1, 2, 2, 4, 4), 2, (16,), 32)
    n = count_parameters(build_unet("paper", 512))
    assert 7.0e6 < n < 7.2e6  # METHOD.md: about 7.1 M parameters per U-Net at 512²


def test_shapes_contract_and_time_dependence():
    m = build_unet("tiny", 32).eval()
    x = torch.randn(2, 2, 32, 32)
    with torch.no_grad():
        a, b = m(x, torch.tensor([10.0, 10.0])), m(x, torch.tensor([900.0, 900.0]))
    assert a.shape == (2, 1, 32, 32)
    assert not torch.allclose(a, b)


def test_timestep_embedding_by_hand():
    e = timestep_embedding(torch.tensor([3.0]), 8)[0]
    freqs = [math.exp(-math.log(10000) * i / 3) for i in range(4)]
    expected = [math.sin(3 * f) for f in freqs] + [math.cos(3 * f) for f in freqs]
    assert torch.allclose(e, torch.tensor(expected), atol=1e-6)


def test_hint_path_starts_at_zero():
    m = build_unet("tiny", 32, hint_channels=1).eval()
    x, t = torch.randn(1, 2, 32, 32), torch.tensor([100.0])
    with torch.no_grad():
        assert torch.equal(m(x, t), m(x, t, hint=torch.randn(1, 1, 32, 32)))
