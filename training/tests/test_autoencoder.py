"""Latent PIG's autoencoder, its trainer and its figures (pigkit.autoencoder, train_autoencoder,
evaluate_autoencoder, texture)."""

import json
import math

import numpy as np
import pytest
import torch

from pigkit.evaluation import evaluate_autoencoder
from pigkit.evaluation.texture import band_centres, radial_power_spectrum, spectrum_ratio
from pigkit.model.autoencoder import Autoencoder, AutoencoderConfig, kl_divergence, psnr, ssim
from pigkit.training import train_autoencoder
from pigkit.training.checkpoint import read_checkpoint

SMALL = AutoencoderConfig(channels=(4, 8, 8), latent_channels=2, blocks=1)


def test_shapes_and_factor():
    ae = Autoencoder(SMALL)
    y = torch.randn(2, 1, 32, 32)
    recon, mean, logvar = ae(y, sample=False)
    assert SMALL.factor == 4
    assert mean.shape == logvar.shape == (2, 2, 8, 8)
    assert recon.shape == y.shape


def test_fully_convolutional_a_crop_is_the_slice_away_from_its_edges():
    """No normalisation layer: the reconstruction of a crop equals the slice's reconstruction inside
    the crop, away from the crop's edges (what makes training on crops valid for whole slices)."""
    torch.manual_seed(0)
    ae = Autoencoder(SMALL).eval()
    for p in ae.parameters():  # the zero-initialised convolutions too, so every layer counts
        torch.nn.init.normal_(p, std=0.1)
    y = torch.randn(1, 1, 224, 224)
    with torch.no_grad():
        whole, _, _ = ae(y, sample=False)
        crop, _, _ = ae(y[..., 48:176, 48:176], sample=False)  # offset a multiple of f: the same stride grid
    # the receptive field reaches 44 pixels (3 + 1 + 2·2 + 2 + 3·4 in E, 3·4 + 3·2 + 4 in D): past 48 the
    # crop's zero padding is out of sight; nearer the edge it is not
    inner = (slice(None), slice(None), slice(48, 80), slice(48, 80))
    assert torch.allclose(crop[inner], whole[..., 48:176, 48:176][inner], atol=1e-5)
    assert not torch.allclose(crop[..., :4, :4], whole[..., 48:52, 48:52], atol=1e-5)


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    assert kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0
    # KL(N(1, 1) ‖ N(0, 1)) = ½ per element
    assert kl_divergence(torch.ones(3, 4), torch.zeros(3, 4)).item() == pytest.approx(0.5)


def test_psnr_and_ssim_golden_values():
    a = torch.zeros(1, 1, 32, 32)
    # an offset of 0.2 in [-1, 1] is 0.1 on [0, 1]: MSE 0.01, PSNR 20 dB
    assert psnr(a + 0.2, a).item() == pytest.approx(20.0, abs=1e-4)
    assert ssim(a, a).item() == pytest.approx(1.0)
    noise = torch.randn(1, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 0.5
    assert ssim(noise, noise).item() == pytest.approx(1.0, abs=1e-6)
    assert ssim(noise, -noise).item() < 0  # anti-correlated structure


def test_radial_spectrum_puts_a_cosine_in_its_band_and_white_noise_flat():
    n, bands = 64, 8
    xx = torch.arange(n, dtype=torch.float64)
    cosine = torch.cos(2 * math.pi * 0.3 * xx).view(1, 1, 1, n).expand(1, 1, n, n)
    spec = radial_power_spectrum(cosine, bands)
    assert int(np.argmax(spec)) == int(np.argmin(np.abs(band_centres(bands) - 0.3)))
    g = torch.Generator().manual_seed(0)
    white = torch.randn(64, 1, n, n, generator=g, dtype=torch.float64)
    flat = radial_power_spectrum(white, bands)
    assert flat[1:].max() / flat[1:].min() < 1.2  # the DC band is emptied by the mean removal
    np.testing.assert_allclose(spectrum_ratio(white, white, bands), 1.0)
    # a 3×3 box blur passes |(1 + 2 cos 2πf)/3|² per axis: near 1 at low frequencies, near 0 at the top
    smooth = torch.nn.functional.avg_pool2d(white, 3, stride=1, padding=1)
    ratio = spectrum_ratio(smooth, white, bands)
    assert ratio[1] > 0.7 and ratio[-1] < 0.1
    assert all(np.diff(ratio[1:6]) < 0)


def test_radial_spectrum_refuses_what_is_not_square_gray():
    with pytest.raises(ValueError, match="B×1×N×N"):
        radial_power_spectrum(torch.zeros(1, 1, 8, 16))


def _train(folder, out, *extra):
    argv = ["--data", str(folder), "--out", str(out), "--resolution", "32", "--crop", "16", "--channels", "4,8,8"]
    argv += ["--latent-channels", "2", "--batch", "2", "--threads", "1", "--log-every", "1", *extra]
    return train_autoencoder.main(argv)


def test_training_lowers_the_loss_and_resume_is_exact(pair_folder, tmp_path):
    assert _train(pair_folder, tmp_path / "straight", "--iters", "6", "--warmup", "0", "--lr", "3e-3") == 0
    assert _train(pair_folder, tmp_path / "split", "--iters", "3", "--warmup", "0", "--lr", "3e-3") == 0
    assert _train(pair_folder, tmp_path / "split", "--iters", "6", "--warmup", "0", "--lr", "3e-3", "--resume") == 0
    a = read_checkpoint(tmp_path / "straight" / "autoencoder" / "ckpt.pt")
    b = read_checkpoint(tmp_path / "split" / "autoencoder" / "ckpt.pt")
    assert a["iter"] == b["iter"] == 6
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k


def test_training_lowers_the_loss(pair_folder, tmp_path):
    assert _train(pair_folder, tmp_path, "--iters", "40", "--warmup", "0", "--lr", "3e-3") == 0
    rows = [json.loads(r)["loss"] for r in (tmp_path / "autoencoder" / "log.jsonl").read_text().splitlines()]
    assert np.mean(rows[-8:]) < 0.8 * np.mean(rows[:8])


def test_a_second_run_without_resume_is_refused(pair_folder, tmp_path, capsys):
    assert _train(pair_folder, tmp_path, "--iters", "1") == 0
    assert _train(pair_folder, tmp_path, "--iters", "1") == 2
    assert "add --resume" in capsys.readouterr().err


def test_evaluation_reports_the_figures(pair_folder, tmp_path, capsys):
    assert _train(pair_folder, tmp_path / "run", "--iters", "2") == 0
    out = tmp_path / "eval"
    argv = ["--ckpt", str(tmp_path / "run" / "autoencoder" / "ckpt.pt"), "--data", str(pair_folder), "--resolution", "32"]
    argv += ["--train-folds", "1,2", "--test-folds", "3", "--out", str(out)]
    assert evaluate_autoencoder.main(argv) == 0
    r = json.loads((out / "autoencoder-eval.json").read_text())
    assert r["slices"] == 2 and r["checkpoint"]["iter"] == 2
    assert len(r["spectrum_ratio"]["ratio"]) == 16 and r["latent_scale"] > 0
    assert (out / "reconstructions.png").is_file()


def test_evaluation_names_a_missing_checkpoint(tmp_path, pair_folder, capsys):
    argv = ["--ckpt", str(tmp_path / "nope.pt"), "--data", str(pair_folder), "--out", str(tmp_path / "e")]
    assert evaluate_autoencoder.main(argv) == 2
    assert "nope.pt" in capsys.readouterr().err
