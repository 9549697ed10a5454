import pytest
import torch

from pigkit.model.schedule import Schedule, q_sample
from pigkit.model.unet import build_unet
from pigkit.training.losses import antithetic_timesteps, image_loss, mask_condition, mask_loss, siamese_image_loss

S = Schedule()


class Zero(torch.nn.Module):
    def forward(self, x, t, hint=None, hint_scale=1.0):
        return torch.zeros_like(x[:, :1])


def batch(n=4, res=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.where(torch.rand((n, 1, res, res), generator=g) > 0.8, 1.0, -1.0)
    y0 = torch.rand((n, 1, res, res), generator=g) * 2 - 1
    return x0, y0, torch.randn(x0.shape, generator=g), torch.randn(y0.shape, generator=g)


def test_antithetic_pairs_mirror():
    t = antithetic_timesteps(6, 1024, torch.Generator().manual_seed(0))
    assert torch.equal(t[3:], 1023 - t[:3])
    assert antithetic_timesteps(5, 1024).shape == (5,)


def test_image_loss_weights_by_sigmoid_of_condition():
    x0, y0, e1, e2 = batch()
    t = torch.tensor([10, 300, 600, 1000])
    model_x = build_unet("tiny", 32).eval()
    got = image_loss(Zero(), model_x, x0, y0, t, e1, e2, S, binarize_condition=True)
    c = mask_condition(model_x, q_sample(x0, t, e1, S), q_sample(y0, t, e2, S), t, S, True)
    assert set(c.unique().tolist()) <= {-1.0, 1.0}
    assert torch.allclose(got, (e2**2 * torch.sigmoid(c)).mean())


def test_mask_condition_is_one_step_x0_estimate():
    x0, y0, e1, e2 = batch()
    t = torch.tensor([5, 5, 5, 5])
    # a model_x that predicts the true noise recovers x0 exactly
    oracle = lambda inp, tt: e1  # noqa: E731
    c = mask_condition(oracle, q_sample(x0, t, e1, S), q_sample(y0, t, e2, S), t, S, binarize_condition=False)
    assert torch.allclose(c, x0, atol=1e-4)


def _fit(loss_fn, model, steps=25):
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_training_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    x0, y0, e1, e2 = batch(res=16)
    t = torch.tensor([100, 400, 623, 923])
    model_x = build_unet("tiny", 16)
    lx = _fit(lambda m: mask_loss(m, x0, y0, t, e1, e2, S), model_x)
    assert sum(lx[-3:]) / 3 < 0.7 * lx[0]
    model_y = build_unet("tiny", 16)
    ly = _fit(lambda m: image_loss(m, model_x.eval(), x0, y0, t, e1, e2, S), model_y)
    assert sum(ly[-3:]) / 3 < 0.7 * ly[0]


def test_siamese_terms_and_late_term():
    torch.manual_seed(0)
    x0, y0, e1, e2 = batch(res=16)
    t = torch.tensor([50, 150, 623, 923])
    model_x = build_unet("tiny", 16).eval()
    model_y = build_unet("tiny", 16, hint_channels=1)
    early, terms = siamese_image_loss(model_y, model_x, x0, y0, t, e1, e2, S, progress=0.1)
    assert set(terms) == {"mask", "image", "consistency"}
    assert abs(terms["mask"] - terms["image"]) < 1e-6  # zero-initialised hint: branches agree at start
    late, terms = siamese_image_loss(model_y, model_x, x0, y0, t, e1, e2, S, progress=0.5)
    assert "late" in terms and terms["late"] > 0
    no_late, terms = siamese_image_loss(model_y, model_x, x0, y0, torch.tensor([500, 600, 700, 800]), e1, e2, S, progress=0.9)
    assert "late" not in terms
    losses = _fit(
        lambda m: siamese_image_loss(m, model_x, x0, y0, t, e1, e2, S, progress=0.5, generator=torch.Generator().manual_seed(1))[
            0
        ],
        model_y,
    )
    assert sum(losses[-3:]) / 3 < 0.8 * losses[0]


def test_min_snr_weight_by_hand():
    from pigkit.training.losses import min_snr_weight

    t = torch.tensor([0, 100, 500, 1023])
    w = min_snr_weight(t, S, 5.0).flatten()
    for i, step in enumerate(t.tolist()):
        snr = S.alpha_bar(step) / (1 - S.alpha_bar(step))
        assert w[i].item() == pytest.approx(min(snr, 5.0) / snr, rel=1e-3)  # ᾱ in float32: 1 − ᾱ_0 to 1e-4
    assert w[0] < 0.001 and w[-1] == 1.0  # t = 0: SNR ≈ 1e4; t = 1023: SNR ≈ 3e-5 < γ


def test_weighted_losses_scale_each_sample():
    x0, y0, e1, e2 = batch()
    t = torch.tensor([10, 300, 600, 1000])
    w = torch.tensor([0.0, 1.0, 0.5, 2.0]).view(-1, 1, 1, 1)
    per_sample = (e1**2).mean(dim=(1, 2, 3))  # a zero model's error is ε itself
    assert torch.allclose(mask_loss(Zero(), x0, y0, t, e1, e2, S, w), (per_sample * w.flatten()).mean())
    assert torch.equal(mask_loss(Zero(), x0, y0, t, e1, e2, S), (e1**2).mean())
    model_x = build_unet("tiny", 32).eval()
    c = mask_condition(model_x, q_sample(x0, t, e1, S), q_sample(y0, t, e2, S), t, S, True)
    got = image_loss(Zero(), model_x, x0, y0, t, e1, e2, S, True, w)
    assert torch.allclose(got, (e2**2 * torch.sigmoid(c) * w).mean())
