import numpy as np
import pytest

from pigkit.evaluation.maskstats import components, ks_statistic, mask_stats, solidity, wasserstein_1d


def test_components_8_connected():
    m = np.zeros((6, 6), int)
    m[0, 0] = m[1, 1] = 1  # diagonal neighbours: one component
    m[4:6, 4:6] = 1
    m[0, 5] = 1
    assert components(m)[1] == 3


def test_solidity_by_hand():
    assert solidity(np.ones((3, 4))) == 1.0
    l_shape = np.zeros((2, 2), int)
    l_shape[0, :] = 1
    l_shape[1, 0] = 1  # 3 pixels; hull of corners: 2×2 square minus a half-pixel triangle = 3.5
    assert solidity(l_shape) == pytest.approx(3 / 3.5)


def test_mask_stats_and_empty():
    m = np.zeros((10, 10), int)
    m[2:4, 2:7] = 1
    assert mask_stats(m) == {"area_fraction": 0.1, "components": 1, "solidity": 1.0}
    assert mask_stats(np.zeros((4, 4)))["components"] == 0


def test_distances():
    assert wasserstein_1d([0, 1, 2], [0, 1, 2]) == 0
    assert wasserstein_1d([0, 0, 0], [1, 1, 1]) == pytest.approx(1)
    assert ks_statistic([0, 0], [1, 1]) == 1 and ks_statistic([1, 2, 3], [1, 2, 3]) == 0
