"""Seeded Gaussian noise that is bit-identical to src/core/noise.ts (docs/contracts.md, section 3).

SplitMix32 seeding, xoshiro128** generator, Box–Muller in float64, rounded to float32.
Plain Python integers masked to 32 bits; fast enough for up to 512² values per call.
"""

from __future__ import annotations

import math

import numpy as np

MASK32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9

STREAM_X_T = 0
STREAM_Y_T = 1
STREAM_Z_MASK = 2
STREAM_Z_IMAGE = 3
STREAM_EPS_IMAGE_TO_MASK = 4


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & MASK32


class NoiseStream:
    def __init__(self, seed: int, stream: int):
        if not 0 <= seed <= MASK32:
            raise ValueError(f"seed must be an integer in [0, 2^32 - 1], got {seed}")
        state = (seed ^ ((stream * GOLDEN) & MASK32)) & MASK32
        words = []
        for _ in range(4):
            state = (state + GOLDEN) & MASK32
            z = state
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & MASK32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & MASK32
            words.append(z ^ (z >> 16))
        self.s = words

    def next_u32(self) -> int:
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & MASK32, 7) * 9) & MASK32
        t = (s1 << 9) & MASK32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def uniform(self) -> float:
        return ((self.next_u32() >> 8) + 0.5) / 16777216.0

    def gaussian(self, n: int) -> np.ndarray:
        out = np.empty(n + (n & 1), dtype=np.float64)
        for i in range(0, n, 2):
            u1, u2 = self.uniform(), self.uniform()
            r = math.sqrt(-2.0 * math.log(u1))
            theta = 2.0 * math.pi * u2
            out[i] = r * math.cos(theta)
            out[i + 1] = r * math.sin(theta)
        return out[:n].astype(np.float32)


def gaussian(seed: int, stream: int, n: int) -> np.ndarray:
    """The first n values of the given stream for this seed, float32."""
    return NoiseStream(seed, stream).gaussian(n)
