"""A loss-curve PNG drawn with Pillow (no plotting library needed on a bare machine)."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw


def _drawable(text: str) -> str:
    """Pillow's built-in bitmap font (older Pillow, e.g. Debian's) draws Latin-1 only."""
    for a, b in (("→", "->"), ("×", "x"), ("²", "^2"), ("–", "-"), ("—", "-")):
        text = text.replace(a, b)
    return text.encode("latin-1", "replace").decode("latin-1")


RIGHT_MARGIN = 20  # pixels right of the axes (and of a legend)
LEGEND_GAP = 10  # pixels between the axes' right edge and the legend
CHAR_WIDTH = 6  # Pillow's built-in bitmap font
SERIES_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"]


def legend_margin(series: dict) -> int:
    """The right margin: room for the longest series name when there is a legend to draw."""
    if len(series) < 2:
        return RIGHT_MARGIN
    return LEGEND_GAP + CHAR_WIDTH * max(len(_drawable(name)) for name in series) + RIGHT_MARGIN


def loss_curve_png(
    path, series: dict[str, list[tuple[int, float]]], title: str, size=(720, 420), log: bool = True, smoothing: float = 0.9
) -> None:
    """Plot each named series of (step, value): by default a loss on a log axis, lightly smoothed
    (log=False, smoothing=0 for a score such as Dice). Two or more series get a legend in a margin
    of its own, right of the axes, so it never hides a curve's last stretch."""
    w, h = size
    left, right, top, bottom = 70, legend_margin(series), 36, 44
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    d.text((left, 10), _drawable(title), fill="black")
    ok = lambda v: math.isfinite(v) and (v > 0 or not log)  # noqa: E731
    f = math.log10 if log else float
    pts = [(s, v) for data in series.values() for s, v in data if ok(v)]
    if len(pts) < 2:
        d.text((left, h // 2), "not enough points yet", fill="gray")
        img.save(path)
        return
    smin, smax = min(p[0] for p in pts), max(p[0] for p in pts)
    lmin, lmax = f(min(p[1] for p in pts)), f(max(p[1] for p in pts))
    if lmax - lmin < 1e-6:
        lmax += 0.5
        lmin -= 0.5
    sx = lambda s: left + (s - smin) / max(smax - smin, 1) * (w - left - right)  # noqa: E731
    sy = lambda v: top + (lmax - f(v)) / (lmax - lmin) * (h - top - bottom)  # noqa: E731
    d.rectangle([left, top, w - right, h - bottom], outline="black")
    for k in range(5):
        lv = lmin + (lmax - lmin) * k / 4
        v = 10**lv if log else lv
        y = sy(v)
        d.line([left - 4, y, left, y], fill="black")
        d.text((4, y - 6), f"{v:.3g}", fill="black")
    for k in range(5):
        s = smin + (smax - smin) * k / 4
        d.text((sx(s) - 12, h - bottom + 6), f"{int(s)}", fill="black")
    d.text((w // 2 - 20, h - 18), "iteration", fill="black")
    for n, (name, data) in enumerate(series.items()):
        data = [(s, v) for s, v in data if ok(v)]
        if not data:
            continue
        smooth, ema = [], data[0][1]
        for s, v in data:
            ema = smoothing * ema + (1 - smoothing) * v
            smooth.append((sx(s), sy(ema)))
        colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
        if len(smooth) > 1:
            d.line(smooth, fill=colour, width=2)
        if len(series) > 1:
            d.text((w - right + LEGEND_GAP, top + 8 + 14 * n), _drawable(name), fill=colour)
    img.save(path)
