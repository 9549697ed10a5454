"""pigkit.fidelity: the pathology classifier's accuracy on pairs that look like their class and on pairs
that do not, mask shape per class by hand, and the case records read from a CLI folder."""

import json

import numpy as np
import pytest
import torch

from pigkit.data.attributes import read_table
from pigkit.evaluation.fidelity import attribute_fidelity, classifier_input, mask_shape_by_class, pathology_fidelity


def disks(n: int, cls: torch.Tensor, size: int = 32, seed: int = 0):
    """Class 0: a small bright disk on a dark slice; class 1: a large dark square on a bright one."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    images, masks = torch.empty(n, 1, size, size), torch.empty(n, 1, size, size)
    for i, c in enumerate(cls.tolist()):
        cy, cx = (torch.randint(10, size - 10, (2,), generator=g)).tolist()
        if c == 0:
            inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= 16
        else:
            inside = ((yy - cy).abs() <= 7) & ((xx - cx).abs() <= 7)
        masks[i, 0] = torch.where(inside, 1.0, -1.0)
        base = -0.6 if c == 0 else 0.4
        images[i, 0] = base + 0.1 * torch.randn(size, size, generator=g) + torch.where(inside, -base, 0.0)
    return images, masks


def test_classifier_input_pools_large_slices_and_stacks_the_mask():
    im, m = torch.zeros(2, 1, 256, 256), torch.ones(2, 1, 256, 256)
    x = classifier_input(im, m)
    assert x.shape == (2, 2, 128, 128) and x[:, 1].eq(1).all()
    assert classifier_input(torch.zeros(1, 1, 64, 64)).shape == (1, 1, 64, 64)
    with pytest.raises(ValueError, match="do not pool"):
        classifier_input(torch.zeros(1, 1, 192, 192))


def test_pairs_that_look_like_their_class_score_as_real_ones_do_and_swapped_ones_do_not():
    cls_train, cls_test = torch.arange(64) % 2, torch.arange(32) % 2
    train = (*disks(64, cls_train, seed=1), cls_train)
    test = (*disks(32, cls_test, seed=2), cls_test)
    faithful = (*disks(32, cls_test, seed=3), cls_test)
    r = pathology_fidelity(train, test, faithful, ("benign", "malignant"), iters=100, seeds=(0, 1))
    assert r["real"]["accuracy"]["mean"] > 0.9 and r["generated"]["accuracy"]["mean"] > 0.9
    assert r["ratio_balanced_accuracy"] == pytest.approx(1.0, abs=0.1)
    swapped = (*disks(32, 1 - cls_test, seed=3), cls_test)  # asked benign, drawn malignant and vice versa
    bad = pathology_fidelity(train, test, swapped, ("benign", "malignant"), iters=100, seeds=(0,))
    assert bad["generated"]["balanced_accuracy"]["mean"] < 0.1 and bad["ratio_balanced_accuracy"] < 0.1
    assert set(bad["per_seed"][0]["generated"]["per_value"]) == {"benign", "malignant"}


def square(size: int, side: int) -> torch.Tensor:
    m = -torch.ones(1, size, size)
    m[0, :side, :side] = 1
    return m


def test_mask_shape_by_class_by_hand():
    # real: benign squares of side 4 and 8 on 16² (areas 1/16, 1/4), malignant an L shape (solidity 3/4… of its hull)
    ell = -torch.ones(1, 16, 16)
    ell[0, :8, :4] = 1
    ell[0, :4, :8] = 1  # 48 pixels; hull of the pixel corners: 64 − the cut triangle (4·4/2) = 56
    real = torch.stack([square(16, 4), square(16, 8), ell])
    gen = torch.stack([square(16, 8), ell, -torch.ones(1, 16, 16)])  # the empty mask is left out of the shape figures
    r = mask_shape_by_class(real, torch.tensor([0, 0, 1]), gen, torch.tensor([0, 1, 1]), ("benign", "malignant"))
    assert r["benign"]["n_real"] == 2 and r["benign"]["n_generated"] == 1
    assert r["benign"]["area_fraction"]["real_mean"] == pytest.approx((16 + 64) / 2 / 256)
    assert r["benign"]["area_fraction"]["wasserstein1"] == pytest.approx((64 - 16) / 256 / 2, rel=1e-3)
    assert r["malignant"]["solidity"]["real_mean"] == pytest.approx(48 / 56)
    assert r["malignant"]["solidity"]["wasserstein1"] == pytest.approx(0.0)
    assert r["malignant"]["n_generated"] == 2


class Pairs:
    def __init__(self, ids, images, masks):
        self.case_ids, self.images, self.masks = ids, images, masks


def test_attribute_fidelity_reads_the_asked_values_from_the_case_records(tmp_path):
    table = tmp_path / "bus_data.csv"
    ids = [f"bus_{i:04d}-l" for i in range(48)]
    cls = torch.tensor([i % 2 for i in range(48)])
    rows = ["ID,Pathology,BIRADS,Device"] + [f"{c},{'benign' if k == 0 else 'malignant'},3,GE" for c, k in zip(ids, cls.tolist())]
    table.write_text("\n".join(rows) + "\n")
    images, masks = disks(48, cls, seed=4)
    train, test = Pairs(ids[:32], images[:32], masks[:32]), Pairs(ids[32:], images[32:], masks[32:])
    folder = tmp_path / "generated"
    (folder / "cases").mkdir(parents=True)
    asked = ["benign", "malignant", "any", "malignant"]
    names = [f"pig_{i:010d}" for i in range(4)]
    for name, v in zip(names, asked):
        (folder / "cases" / f"{name}.json").write_text(json.dumps({"case": {"attributes": {"pathology": v, "birads": "any"}}}))
    g_images, g_masks = disks(4, torch.tensor([0, 1, 0, 1]), seed=5)
    r = attribute_fidelity(folder, names, read_table(table), train, test, g_masks, g_images, iters=20)
    assert r["fidelity"]["n_generated"] == 3  # the "any" case asked for no pathology
    assert r["mask_shape"]["malignant"]["n_generated"] == 2 and r["mask_shape"]["benign"]["n_real"] == 8
    assert attribute_fidelity(folder, names, None, train, test, g_masks, g_images, 100) is None
    (folder / "cases" / f"{names[0]}.json").unlink()
    with pytest.raises(FileNotFoundError, match="no case record"):
        attribute_fidelity(folder, names, read_table(table), train, test, g_masks, g_images, 100)
    assert np.isfinite(r["fidelity"]["ratio_balanced_accuracy"])
