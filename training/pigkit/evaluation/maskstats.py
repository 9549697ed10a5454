"""Shape statistics of binary lesion masks and distances between their distributions.

Area fraction, number of 8-connected components, and solidity (area / convex-hull area, on pixel
corners) of the largest component; plain NumPy so the kit needs no SciPy or scikit-image.
"""

from __future__ import annotations

import numpy as np


def components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected labelling by union-find over foreground pixels; returns (labels, count)."""
    h, w = mask.shape
    parent = np.arange(h * w)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    fg = mask.astype(bool)
    ys, xs = np.nonzero(fg)
    for y, x in zip(ys.tolist(), xs.tolist()):
        i = y * w + x
        for dy, dx in ((-1, -1), (-1, 0), (-1, 1), (0, -1)):
            ny, nx = y + dy, x + dx
            if 0 <= ny < h and 0 <= nx < w and fg[ny, nx]:
                a, b = find(i), find(ny * w + nx)
                if a != b:
                    parent[a] = b
    labels = np.zeros((h, w), dtype=np.int32)
    roots: dict[int, int] = {}
    for y, x in zip(ys.tolist(), xs.tolist()):
        labels[y, x] = roots.setdefault(find(y * w + x), len(roots) + 1)
    return labels, len(roots)


def _hull_area(points: np.ndarray) -> float:
    """Area of the convex hull of 2-D points (Andrew's monotone chain, shoelace formula)."""
    pts = sorted(set(map(tuple, points.tolist())))
    if len(pts) < 3:
        return 0.0

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = np.array(lower[:-1] + upper[:-1], dtype=np.float64)
    x, y = hull[:, 0], hull[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def solidity(component: np.ndarray) -> float:
    """Pixel area over the area of the convex hull of the pixels' corners (1.0 for a rectangle)."""
    ys, xs = np.nonzero(component)
    if len(ys) == 0:
        return 0.0
    corners = np.concatenate([np.stack([xs + dx, ys + dy], 1) for dx in (0, 1) for dy in (0, 1)])
    return float(len(ys) / _hull_area(corners))


def mask_stats(mask: np.ndarray) -> dict[str, float]:
    """Statistics of one binary mask (nonzero = lesion)."""
    fg = mask.astype(bool)
    labels, n = components(fg)
    if n == 0:
        return {"area_fraction": 0.0, "components": 0, "solidity": 0.0}
    sizes = np.bincount(labels.ravel())[1:]
    largest = labels == (int(np.argmax(sizes)) + 1)
    return {"area_fraction": float(fg.mean()), "components": n, "solidity": solidity(largest)}


def wasserstein_1d(a, b) -> float:
    """Earth mover's distance between two 1-D samples (difference of quantile functions)."""
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    qs = np.linspace(0, 1, 1001)
    return float(np.mean(np.abs(np.quantile(a, qs) - np.quantile(b, qs))))


def ks_statistic(a, b) -> float:
    """Two-sample Kolmogorov–Smirnov statistic: the largest gap between the empirical CDFs."""
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, "right") / len(a) - np.searchsorted(b, grid, "right") / len(b))))
