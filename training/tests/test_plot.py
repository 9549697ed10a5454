"""The loss-curve PNG: a legend that never covers a curve."""

from PIL import Image, ImageColor

from pigkit.training.plot import RIGHT_MARGIN, SERIES_COLOURS, legend_margin, loss_curve_png

COLOURS = [ImageColor.getrgb(c) for c in SERIES_COLOURS[:2]]


def test_legend_sits_right_of_the_axes_not_on_the_curves(tmp_path):
    # two falling losses: both curves leave the axes' top-right quarter empty, where the legend
    # used to be drawn over whatever a curve had there
    falling = [(s, 10 ** (-s / 500)) for s in range(0, 1001, 10)]
    series = {"real only": falling, "pig x2 pretrain->finetune": [(s, 0.8 * v) for s, v in falling]}
    path = tmp_path / "curves.png"
    loss_curve_png(path, series, "two series", smoothing=0)
    img = Image.open(path).convert("RGB")
    w, h = img.size
    frame_right = w - legend_margin(series)
    px = img.load()
    top_right_quarter = {px[x, y] for x in range(w // 2, frame_right - 1) for y in range(37, h // 3)}
    assert top_right_quarter == {(255, 255, 255)}
    margin = {px[x, y] for x in range(frame_right + 1, w) for y in range(0, h)}
    assert all(colour in margin for colour in COLOURS)


def test_one_series_has_no_legend_and_the_narrow_margin(tmp_path):
    series = {"segmenter": [(s, 1 / (1 + s)) for s in range(100)]}
    assert legend_margin(series) == RIGHT_MARGIN
    path = tmp_path / "one.png"
    loss_curve_png(path, series, "one series")
    img = Image.open(path).convert("RGB")
    px = img.load()
    w, h = img.size
    assert {px[x, y] for x in range(w - RIGHT_MARGIN + 1, w) for y in range(h)} == {(255, 255, 255)}
