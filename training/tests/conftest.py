import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
torch.set_num_threads(1)  # two threads on a busy 2-core machine spin-wait badly

BUSBRA = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "busbra"


def write_png(path: Path, array: np.ndarray, mode: str = "L") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8), mode).save(path)
    return path


def tiny_train_argv(model: str, data, out, *extra: str, resolution: int = 16, iters: int = 4) -> list[str]:
    """pigkit.train's command line for the tests: the tiny preset, batch 2, one thread; `extra` adds flags."""
    flags = f"--preset tiny --resolution {resolution} --batch 2 --iters {iters} --threads 1".split()
    return ["--model", model, "--data", str(data), "--out", str(out), *flags, *extra]


@pytest.fixture
def pair_folder(tmp_path: Path) -> Path:
    """Six synthetic BUS-BRA-named pairs: a bright disc lesion on a noisy background."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:40, :48]
    for i in range(6):
        cx, cy, r = 16 + 3 * i, 18, 8 + i
        lesion = (xx - cx) ** 2 + (yy - cy) ** 2 < r**2
        img = np.clip(rng.normal(90, 20, (40, 48)) + 80 * lesion, 0, 255)
        write_png(tmp_path / "Images" / f"bus_{i:04d}-l.png", img)
        write_png(tmp_path / "Masks" / f"mask_{i:04d}-l.png", lesion * 255)
    (tmp_path / "5-fold-cv.csv").write_text("ID,kFold\n" + "".join(f"bus_{i:04d}-l,{1 + i % 3}\n" for i in range(6)))
    return tmp_path


@pytest.fixture
def folder(pair_folder):
    """The six synthetic pairs in folds 1-4, one of them a 16-bit image (test_pack, test_gpu_sprint)."""
    (pair_folder / "5-fold-cv.csv").write_text(
        "ID,kFold\n" + "".join(f"bus_{i:04d}-l,{[1, 2, 3, 1, 4, 4][i]}\n" for i in range(6))
    )
    rng = np.random.default_rng(2)
    Image.fromarray(rng.integers(1000, 40000, (40, 48)).astype(np.uint16)).save(pair_folder / "Images" / "bus_0002-l.png")
    (pair_folder / "LICENSE.txt").write_text("the data's notice")
    return pair_folder
