import numpy as np
import torch

from pigkit.model.binarize import binarize, contrast_stretch, to_uint8


def pooled_by_loops(a: np.ndarray) -> np.ndarray:
    """5×5 mean over the cells inside the image only (padding not counted), written out plainly."""
    h, w = a.shape
    out = np.zeros_like(a, dtype=np.float64)
    for i in range(h):
        for j in range(w):
            win = a[max(0, i - 2) : i + 3, max(0, j - 2) : j + 3]
            out[i, j] = win.mean()
    return out


def test_binarize_matches_the_written_out_formula():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 0.8, (9, 11))
    a[2:6, 3:8] += 1.5
    pooled = pooled_by_loops(np.clip(a, -1, 1))
    theta = 0.75 * pooled.max() + 0.25 * pooled.min()
    expected = np.where(pooled > theta, 1.0, -1.0)
    got = binarize(torch.tensor(a, dtype=torch.float32)[None, None])[0, 0].numpy()
    assert np.array_equal(got, expected)
    assert 0 < (expected > 0).sum() < expected.size


def test_binarize_threshold_is_per_sample_and_constant_map_is_empty():
    a = torch.zeros(2, 1, 6, 6)
    a[0, 0, 0, 0] = 1.0  # corner: pooled 1/9 there (3×3 valid cells)
    out = binarize(a)
    assert out[0, 0, 0, 0] == 1 and out[0].sum() < 0
    assert torch.all(out[1] == -1)  # constant map: nothing exceeds θ


def test_to_uint8_and_contrast_stretch():
    y = torch.tensor([-1.5, -1.0, 0.0, 0.999, 2.0]).view(1, 1, 1, 5)
    assert to_uint8(y).flatten().tolist() == [0, 0, 128, 255, 255]
    img = torch.linspace(-0.5, 0.5, 64).view(1, 1, 8, 8)
    s = contrast_stretch(img)
    pooled = pooled_by_loops(img[0, 0].numpy().astype(np.float64))
    lo, hi = pooled.min(), pooled.max()
    raw = img[0, 0].numpy().astype(np.float64)
    expected = np.floor((np.clip(-1 + (raw - lo) * (hi + 1) / (hi - lo), -1, 1) + 1) * 127.5 + 0.5)
    assert np.abs(s[0, 0].numpy().astype(int) - expected).max() <= 1
    assert s[0, 0, 0, 0] == 0  # the darkest pixel is below the pooled minimum: clipped to black
