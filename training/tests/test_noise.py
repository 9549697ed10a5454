import numpy as np

from pigkit.model.noise import NoiseStream, gaussian

# The same numbers are asserted by src/core/noise.test.ts: the two implementations must agree.
SEED42_STREAM0 = [
    0.6362303495407104,
    0.6514421701431274,
    0.8308018445968628,
    -1.9218769073486328,
    2.2217392921447754,
    0.3712368905544281,
]
SEED0_STREAM1 = [-0.4700791537761688, 1.4765856266021729, 0.7984758615493774]


def test_golden_values_shared_with_typescript():
    assert gaussian(42, 0, 6).tolist() == SEED42_STREAM0
    assert gaussian(0, 1, 3).tolist() == SEED0_STREAM1


def test_first_uniform_by_hand():
    # SplitMix32 from state 42 (stream 0), then xoshiro128**'s first output, traced step by step.
    m = 0xFFFFFFFF
    state, words = 42, []
    for _ in range(4):
        state = (state + 0x9E3779B9) & m
        z = state
        z = ((z ^ (z >> 16)) * 0x85EBCA6B) & m
        z = ((z ^ (z >> 13)) * 0xC2B2AE35) & m
        words.append(z ^ (z >> 16))
    s1 = words[1]
    x = (s1 * 5) & m
    first = ((((x << 7) | (x >> 25)) & m) * 9) & m
    assert NoiseStream(42, 0).next_u32() == first


def test_prefix_property_and_streams_differ():
    assert np.array_equal(gaussian(5, 2, 10)[:7], gaussian(5, 2, 7))
    assert not np.array_equal(gaussian(5, 0, 8), gaussian(5, 1, 8))
    assert not np.array_equal(gaussian(5, 0, 8), gaussian(6, 0, 8))


def test_standard_normal_statistics():
    v = gaussian(123, 0, 40000).astype(np.float64)
    assert abs(v.mean()) < 0.02 and abs(v.std() - 1) < 0.02
    assert abs((np.abs(v) < 1).mean() - 0.6827) < 0.01


def test_seed_range_is_checked():
    import pytest

    with pytest.raises(ValueError, match="seed"):
        NoiseStream(2**32, 0)
