import math

import numpy as np
import pytest
import torch

from pigkit.model.schedule import Schedule, ddim_step, predict_x0, q_sample

S = Schedule()


def test_alpha_bar_by_hand():
    b0 = float(np.float32(1e-4))
    b1 = float(np.float32(1e-4 + (0.02 - 1e-4) / 1023))
    assert S.alpha_bar(-1) == 1.0
    assert S.alpha_bar(0) == pytest.approx(1 - b0, abs=1e-15)
    assert S.alpha_bar(1) == pytest.approx((1 - b0) * (1 - b1), abs=1e-15)
    assert float(np.float32(0.02)) == S.betas()[-1]
    assert S.alpha_bar(1023) == pytest.approx(3.1657e-05, rel=1e-3)  # DDPM's linear schedule at T=1024
    with pytest.raises(ValueError):
        S.alpha_bar(1024)


def test_ddim_pairs_walk_uniform_list_from_the_top():
    assert S.ddim_pairs(4) == [(768, 512), (512, 256), (256, 0), (0, -1)]
    assert S.ddim_pairs(3) == [(682, 341), (341, 0), (0, -1)]
    assert S.ddim_pairs(1) == [(0, -1)]
    assert len(S.ddim_pairs(256)) == 256 and S.ddim_pairs(256)[0] == (1020, 1016)
    assert S.ddim_pairs(1024)[0] == (1023, 1022)
    with pytest.raises(ValueError):
        S.ddim_pairs(0)


def test_coefficients_eta0_and_eta1():
    a_t, a_p = S.alpha_bar(512), S.alpha_bar(256)
    k0 = S.ddim_coefficients(512, 256, 0.0)
    assert k0["c1"] == 0.0 and k0["c2"] == pytest.approx(math.sqrt(1 - a_p))
    k1 = S.ddim_coefficients(512, 256, 1.0)
    c1 = math.sqrt((1 - a_t / a_p) * (1 - a_p) / (1 - a_t))
    assert k1["c1"] == pytest.approx(c1) and k1["c2"] == pytest.approx(math.sqrt(1 - a_p - c1 * c1))


def test_last_step_lands_exactly_on_x0():
    k = S.ddim_coefficients(0, -1, 1.0)
    assert k["c1"] == 0.0 and k["c2"] == 0.0 and k["sqrt_a_prev"] == 1.0
    x_t, eps = torch.tensor([0.3, -0.2]), torch.tensor([0.5, 1.0])
    x_prev, x0 = ddim_step(x_t, eps, k, None)
    assert torch.equal(x_prev, x0)


def test_ddim_step_by_hand():
    k = S.ddim_coefficients(768, 512, 0.0)
    x_t, eps = torch.tensor([0.5]), torch.tensor([-0.25])
    x0 = (0.5 - math.sqrt(1 - S.alpha_bar(768)) * -0.25) / math.sqrt(S.alpha_bar(768))
    x_prev_expected = math.sqrt(S.alpha_bar(512)) * x0 + math.sqrt(1 - S.alpha_bar(512)) * -0.25
    x_prev, x0_got = ddim_step(x_t, eps, k, None)
    assert float(x0_got) == pytest.approx(x0, rel=1e-6)
    assert float(x_prev) == pytest.approx(x_prev_expected, rel=1e-6)
    with pytest.raises(ValueError):
        ddim_step(x_t, eps, S.ddim_coefficients(768, 512, 0.5), None)


def test_q_sample_inverts_predict_x0():
    x0 = torch.randn(3, 1, 4, 4)
    eps = torch.randn(3, 1, 4, 4)
    t = torch.tensor([0, 500, 1023])
    x_t = q_sample(x0, t, eps, S)
    a = S.alpha_bar_torch(t)
    assert torch.allclose(predict_x0(x_t, eps, a.sqrt(), (1 - a).sqrt()), x0, atol=2e-3)


def test_clip_estimate_by_hand():
    """Only pixels whose x̂₀ leaves [−1, 1] change: x̂₀ to ±1, ε to what the clamped x̂₀ implies."""
    from pigkit.model.schedule import clip_estimate

    for t in (0, 300, 1023):
        k = S.ddim_coefficients(t, t - 1, 0.0)
        x_t = torch.tensor([[[[0.5, -2.0, 3.0, 0.1]]]])
        eps = torch.tensor([[[[0.2, 0.7, -1.5, 0.9]]]])
        x0 = predict_x0(x_t, eps, k["sqrt_a_t"], k["sqrt_one_minus_a_t"])
        got_x0, got_eps = clip_estimate(eps, x0, k, True)
        for i in range(4):
            raw = (x_t.flatten()[i].item() - math.sqrt(1 - S.alpha_bar(t)) * eps.flatten()[i].item()) / math.sqrt(S.alpha_bar(t))
            if abs(raw) <= 1:
                assert (
                    got_x0.flatten()[i].item() == x0.flatten()[i].item()
                    and got_eps.flatten()[i].item() == eps.flatten()[i].item()
                )
            else:
                assert got_x0.flatten()[i].item() == math.copysign(1.0, raw)
                want = (x_t.flatten()[i].item() - math.sqrt(S.alpha_bar(t)) * math.copysign(1.0, raw)) / math.sqrt(
                    1 - S.alpha_bar(t)
                )
                assert got_eps.flatten()[i].item() == pytest.approx(want, rel=1e-5)
        assert (got_x0.abs() <= 1).all()
        # no clip: the very same tensors; a [1] flag tensor (the step graphs' input) agrees with the bool
        assert clip_estimate(eps, x0, k, False) == (x0, eps)
        for flag, expect in ((torch.tensor([1.0]), (got_x0, got_eps)), (torch.tensor([0.0]), (x0, eps))):
            a, b = clip_estimate(eps, x0, k, flag)
            assert torch.equal(a, expect[0]) and torch.allclose(b, expect[1], rtol=1e-6)


def test_clip_modes_name_their_chains():
    from pigkit.model.schedule import clip_chains

    assert [clip_chains(m) for m in ("none", "image", "both")] == [(False, False), (False, True), (True, True)]
    with pytest.raises(ValueError, match="clip must be one of"):
        clip_chains("mask")


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"T": 10**9}, r"schedule T must be a whole number from 1 to 10000, got 1000000000"),
        ({"T": 0}, r"schedule T must be a whole number from 1 to 10000, got 0"),
        ({"T": 1024.0}, r"schedule T must be a whole number"),
        ({"beta_end": 1.5}, r"schedule beta_end must be a number between 0 and 1 \(both excluded\), got 1.5"),
        ({"beta_end": 1.0}, r"schedule beta_end must be a number between 0 and 1"),
        ({"beta_start": 0.0}, r"schedule beta_start must be a number between 0 and 1"),
        ({"beta_start": math.nan}, r"schedule beta_start must be a number between 0 and 1"),
        ({"beta_start": 0.03}, r"schedule beta_end \(0.02\) must be ≥ beta_start \(0.03\)"),
    ],
)
def test_schedule_bounds_are_the_manifests(kw, message):
    """The bounds the manifest validator applies (pigkit.limits): a T of 10⁹ would build 10⁹-long tables."""
    with pytest.raises(ValueError, match=message):
        Schedule(**kw)
