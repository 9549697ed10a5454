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


def make_cases(root: Path, first: int, n: int, fold: int, seed: int) -> None:
    """n BUS-BRA-named pairs of one 'population': smooth random texture with a dark disc lesion at a
    random place and size (each case a new patient)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:32, :32]
    rows = []
    for i in range(first, first + n):
        noise = rng.normal(0, 1, (36, 36))
        smooth = sum(noise[dy : dy + 32, dx : dx + 32] for dy in range(5) for dx in range(5)) / 5
        cx, cy, r = rng.uniform(8, 24), rng.uniform(8, 24), rng.uniform(4, 9)
        lesion = (xx - cx) ** 2 + (yy - cy) ** 2 < r**2
        write_png(root / "Images" / f"bus_{i:04d}-l.png", np.clip(120 + 40 * smooth - 70 * lesion, 0, 255))
        write_png(root / "Masks" / f"mask_{i:04d}-l.png", lesion * 255)
        rows.append(f"bus_{i:04d}-l,{fold}\n")
    with (root / "5-fold-cv.csv").open("a") as f:
        f.write("".join(rows))


@pytest.fixture
def population(tmp_path):
    """60 training pairs (folds 1-3), 150 held-out (fold 4) and 150 more of other patients (fold 5): enough
    that 1% of each is a pair or two, as with real sets of a few hundred."""
    data = tmp_path / "data"
    (data).mkdir()
    (data / "5-fold-cv.csv").write_text("ID,kFold\n")
    for fold in range(1, 6):
        make_cases(data, 1000 * fold, 20 if fold <= 3 else 150, fold, seed=fold)
    return data


def write_generated(folder: Path, masks: torch.Tensor, images: torch.Tensor) -> Path:
    """Pairs in the CLI's nnU-Net raw layout."""
    for k, (m, im) in enumerate(zip(masks, images)):
        write_png(folder / "imagesTr" / f"pig_{k:010d}_0000.png", ((im[0].numpy() + 1) * 127.5).round())
        write_png(folder / "labelsTr" / f"pig_{k:010d}.png", (m[0].numpy() > 0).astype(np.uint8))
    return folder
