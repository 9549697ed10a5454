import numpy as np
import pytest

from conftest import BUSBRA, write_png
from pigkit.data import DataError, discover_pairs, load_mask, open_dataset


def test_busbra_naming_and_folds(pair_folder):
    pairs = discover_pairs(pair_folder)
    assert [p.case_id for p in pairs] == [f"bus_{i:04d}-l" for i in range(6)]
    assert pairs[0].mask.name == "mask_0000-l.png"
    ds = open_dataset(pair_folder, 16, folds={1, 2})
    assert len(ds) == 4
    mask, image = ds[0]
    assert mask.shape == image.shape == (1, 16, 16)
    assert set(mask.unique().tolist()) == {-1.0, 1.0}
    assert -1.0 <= float(image.min()) and float(image.max()) <= 1.0


def test_same_name_partners(tmp_path):
    write_png(tmp_path / "images" / "case1.png", np.full((8, 8), 100))
    write_png(tmp_path / "masks" / "case1.png", np.eye(8) * 255)
    assert discover_pairs(tmp_path)[0].case_id == "case1"


def test_missing_partner_is_named(pair_folder):
    (pair_folder / "Masks" / "mask_0003-l.png").unlink()
    with pytest.raises(DataError, match=r"bus_0003-l\.png: no mask partner"):
        discover_pairs(pair_folder)


def test_orphan_mask_is_named(pair_folder):
    write_png(pair_folder / "Masks" / "mask_0099-l.png", np.zeros((4, 4)))
    with pytest.raises(DataError, match=r"mask_0099-l\.png: mask has no image partner"):
        discover_pairs(pair_folder)


def test_unreadable_image_is_named(pair_folder):
    (pair_folder / "Images" / "bus_0002-l.png").write_text("not a png")
    with pytest.raises(DataError, match=r"bus_0002-l\.png: cannot read image"):
        open_dataset(pair_folder, 16)


def test_non_binary_and_empty_masks_are_refused(tmp_path):
    grey = write_png(tmp_path / "grey.png", np.arange(64).reshape(8, 8))
    with pytest.raises(DataError, match=r"grey\.png: mask is not binary \(64 distinct values"):
        load_mask(grey, 8)
    empty = write_png(tmp_path / "empty.png", np.zeros((8, 8)))
    with pytest.raises(DataError, match=r"empty\.png: mask is empty"):
        load_mask(empty, 8)


def test_empty_and_malformed_folders(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        discover_pairs(tmp_path / "nope")
    with pytest.raises(DataError, match="'Images' and 'Masks'"):
        discover_pairs(tmp_path)
    (tmp_path / "Images").mkdir()
    (tmp_path / "Masks").mkdir()
    with pytest.raises(DataError, match="no images found"):
        discover_pairs(tmp_path)


def test_fold_csv_problems(pair_folder):
    (pair_folder / "5-fold-cv.csv").write_text("ID,kFold\nbus_0000-l,1\n")
    with pytest.raises(DataError, match="have no fold"):
        open_dataset(pair_folder, 16, folds={1})
    (pair_folder / "5-fold-cv.csv").write_text("name,fold\n")
    with pytest.raises(DataError, match="needs columns 'ID' and 'kFold'"):
        open_dataset(pair_folder, 16, folds={1})


@pytest.mark.skipif(not BUSBRA.is_dir(), reason="../shared/datasets/busbra not present")
def test_real_busbra_folds_are_patient_level():
    from pigkit.data import read_folds
    pairs = discover_pairs(BUSBRA)
    folds = read_folds(BUSBRA / "5-fold-cv.csv")
    assert len(pairs) == 1492
    by_patient = {}
    for p in pairs:
        by_patient.setdefault(p.case_id.split("-")[0], set()).add(folds[p.case_id])
    assert all(len(f) == 1 for f in by_patient.values())  # no patient on both sides of a split
    assert sum(folds[p.case_id] == 4 for p in pairs) == 365
