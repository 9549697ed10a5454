import re

import numpy as np
import pytest
import torch
from conftest import BUSBRA, tiny_train_argv, write_png
from PIL import Image

from pigkit.data.pairs import DataError, discover_pairs, load_image, load_mask, open_dataset
from pigkit.training.train import main


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
    with pytest.raises(DataError, match="has no fold in"):
        open_dataset(pair_folder, 16, folds={1})
    (pair_folder / "5-fold-cv.csv").write_text("name,fold\n")
    with pytest.raises(DataError, match="needs columns 'ID' and 'kFold'"):
        open_dataset(pair_folder, 16, folds={1})


@pytest.mark.skipif(not BUSBRA.is_dir(), reason="../shared/datasets/busbra not present")
def test_real_busbra_folds_are_patient_level():
    from pigkit.data.pairs import read_folds

    pairs = discover_pairs(BUSBRA)
    folds = read_folds(BUSBRA / "5-fold-cv.csv")
    assert len(pairs) == 1492
    by_patient = {}
    for p in pairs:
        by_patient.setdefault(p.case_id.split("-")[0], set()).add(folds[p.case_id])
    assert all(len(f) == 1 for f in by_patient.values())  # no patient on both sides of a split
    assert sum(folds[p.case_id] == 4 for p in pairs) == 365


def test_patient_subset_never_splits_a_patient_and_is_reproducible():
    from pigkit.data.pairs import patient_of, patient_subset

    assert patient_of("bus_0001-l") == patient_of("bus_0001-r") == "bus_0001" and patient_of("case7") == "case7"
    ids = [f"bus_{i:04d}-{side}" for i in range(40) for side in ("l", "r")] + [f"bus_{i:04d}-s" for i in range(40, 60)]
    keep = patient_subset(ids, 0.25, seed=0)
    chosen = {patient_of(c) for c, k in zip(ids, keep) if k}
    assert len(chosen) == 15  # round(0.25 × 60 patients)
    assert all(k == (patient_of(c) in chosen) for c, k in zip(ids, keep))  # both breasts of a patient, or neither
    assert (keep == patient_subset(ids, 0.25, seed=0)).all() and not (keep == patient_subset(ids, 0.25, seed=1)).all()
    assert patient_subset(ids, 1.0).all() and patient_subset(ids, 0.001).sum() in (1, 2)  # at least one patient
    for bad in (0, -0.5, 1.5):
        with pytest.raises(DataError, match="fraction of patients"):
            patient_subset(ids, bad)


def test_patient_subset_of_a_dataset_keeps_its_pairs_aligned(pair_folder):
    ds = open_dataset(pair_folder, 16, {1, 2, 3})
    sub = ds.patient_subset(0.5, seed=3)
    assert len(sub) == 3 and set(sub.case_ids) < set(ds.case_ids)
    for case in sub.case_ids:
        i, j = ds.case_ids.index(case), sub.case_ids.index(case)
        assert torch.equal(sub.images[j], ds.images[i]) and torch.equal(sub.masks[j], ds.masks[i])


# A bad folder is refused file by file: every bad file in one error, not only the first.


def refused(folder, **kw) -> str:
    with pytest.raises(DataError) as e:
        open_dataset(folder, 16, **kw)
    assert str(e.value).startswith(f"{folder}: ")  # the folder first, then its bad files
    return str(e.value)


def named(message: str, *names: str) -> None:
    lines = message.splitlines()
    for name in names:
        assert any(name in line for line in lines[1:]), f"{name} not named in:\n{message}"
    assert re.match(rf".*: {len(lines) - 1} problem\(s\), nothing was loaded", lines[0]), message


def test_every_missing_partner_is_named(pair_folder):
    for i in (1, 4):
        (pair_folder / "Masks" / f"mask_{i:04d}-l.png").unlink()
    write_png(pair_folder / "Masks" / "mask_0099-l.png", np.eye(8) * 255)
    msg = refused(pair_folder)
    named(msg, "bus_0001-l.png: no mask partner", "bus_0004-l.png: no mask partner", "mask_0099-l.png: mask has no image partner")


def test_every_unreadable_file_is_named(pair_folder):
    (pair_folder / "Images" / "bus_0001-l.png").write_text("not a png")
    (pair_folder / "Images" / "bus_0003-l.png").write_bytes(b"")
    data = (pair_folder / "Masks" / "mask_0005-l.png").read_bytes()
    (pair_folder / "Masks" / "mask_0005-l.png").write_bytes(data[: len(data) // 2])  # truncated
    named(
        refused(pair_folder),
        "bus_0001-l.png: cannot read image",
        "bus_0003-l.png: cannot read image",
        "mask_0005-l.png: cannot read mask",
    )


def test_every_non_binary_or_empty_mask_is_named(pair_folder):
    write_png(pair_folder / "Masks" / "mask_0000-l.png", np.arange(40 * 48).reshape(40, 48) % 7 * 30)
    write_png(pair_folder / "Masks" / "mask_0002-l.png", np.zeros((40, 48)))
    write_png(pair_folder / "Masks" / "mask_0004-l.png", np.where(np.eye(40, 48) > 0, 255, 128))  # two levels: fine
    named(refused(pair_folder), "mask_0000-l.png: mask is not binary (7 distinct values", "mask_0002-l.png: mask is empty")


def test_wrong_pixel_modes_and_stacks_are_named(pair_folder):
    gray = np.asarray(Image.open(pair_folder / "Images" / "bus_0000-l.png"))
    (pair_folder / "Images" / "bus_0000-l.png").unlink()
    Image.fromarray(gray).convert("CMYK").save(pair_folder / "Images" / "bus_0000-l.jpg")
    (pair_folder / "Images" / "bus_0001-l.png").unlink()
    Image.fromarray(gray.astype(np.float32) / 255).save(pair_folder / "Images" / "bus_0001-l.tif")  # mode F, 0..1
    (pair_folder / "Masks" / "mask_0002-l.png").unlink()
    frames = [Image.fromarray((np.eye(40, 48) * 255).astype(np.uint8))] * 3
    frames[0].save(pair_folder / "Masks" / "mask_0002-l.tif", save_all=True, append_images=frames[1:])
    msg = refused(pair_folder)
    named(
        msg,
        "bus_0000-l.jpg: image has pixel mode 'CMYK'",
        "bus_0001-l.tif: image has pixel mode 'F'",
        "mask_0002-l.tif: mask has 3 frames",
    )


def test_image_formats_the_studio_reads_still_load(tmp_path):
    """The mode check refuses nothing the kit read before for the studio's formats."""
    rng = np.random.default_rng(1)
    for mode, arr in (
        ("L", rng.integers(0, 256, (9, 7))),
        ("RGB", rng.integers(0, 256, (9, 7, 3))),
        ("RGBA", rng.integers(0, 256, (9, 7, 4))),
        ("LA", rng.integers(0, 256, (9, 7, 2))),
    ):
        path = tmp_path / f"{mode}.png"
        Image.fromarray(arr.astype(np.uint8), mode).save(path)
        assert load_image(path, 8).shape == (8, 8)
    path = tmp_path / "gray16.png"
    Image.fromarray(rng.integers(1000, 40000, (9, 7)).astype(np.uint16)).save(path)
    out = load_image(path, 8)
    assert out.min() < -0.5 and out.max() > 0.5  # min-max stretched, not clipped
    path = tmp_path / "palette.png"
    Image.fromarray((np.eye(9, 7) * 255).astype(np.uint8)).convert("P").save(path)
    assert set(np.unique(load_mask(path, 8))) <= {-1.0, 1.0}


def test_mask_of_another_size_than_its_image_is_named(pair_folder):
    write_png(pair_folder / "Masks" / "mask_0003-l.png", np.eye(20, 24) * 255)
    named(refused(pair_folder), "mask_0003-l.png: mask is 24×20 pixels but its image bus_0003-l.png is 48×40")


def test_empty_masks_folder_names_every_image(pair_folder):
    for m in (pair_folder / "Masks").iterdir():
        m.unlink()
    named(refused(pair_folder), *(f"bus_{i:04d}-l.png: no mask partner" for i in range(6)))


def test_fold_csv_rows_are_checked_one_by_one(pair_folder):
    (pair_folder / "5-fold-cv.csv").write_text(
        "ID,kFold\n"
        + "".join(f"bus_{i:04d}-l,{1 + i % 3}\n" for i in range(6))
        + "bus_0007-l,1\nbus_0008-r,2\nbus_0001-l,3\nbus_0002-l,two\n"
    )
    msg = refused(pair_folder, folds={1, 2})
    named(
        msg,
        "names bus_0007-l, which has no image",
        "names bus_0008-r, which has no image",
        "line 10: bus_0001-l is in fold 3 here and in fold 2 on line 3",
        "line 11: kFold 'two' of bus_0002-l is not a whole number",
    )


def test_all_kinds_at_once_in_one_message(pair_folder):
    """One run names every kind of problem together, and the training CLI shows them without a trace."""
    (pair_folder / "Masks" / "mask_0001-l.png").unlink()
    (pair_folder / "Images" / "bus_0002-l.png").write_text("not a png")
    write_png(pair_folder / "Masks" / "mask_0003-l.png", np.arange(40 * 48).reshape(40, 48) % 5 * 40)
    write_png(pair_folder / "Masks" / "mask_0004-l.png", np.zeros((40, 48)))
    with (pair_folder / "5-fold-cv.csv").open("a") as f:
        f.write("bus_0042-l,1\n")
    names = [
        "bus_0001-l.png: no mask partner",
        "bus_0002-l.png: cannot read image",
        "mask_0003-l.png: mask is not binary",
        "mask_0004-l.png: mask is empty",
        "names bus_0042-l",
    ]
    named(refused(pair_folder, folds={1, 2, 3}), *names)


def test_train_cli_lists_every_bad_file(pair_folder, tmp_path, capsys):
    (pair_folder / "Images" / "bus_0000-l.png").write_text("x")
    (pair_folder / "Images" / "bus_0005-l.png").write_text("y")
    code = main(tiny_train_argv("mask", pair_folder, tmp_path / "o", iters=1))
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    named(err.removeprefix("error: ").strip(), "bus_0000-l.png: cannot read image", "bus_0005-l.png: cannot read image")
    assert not (tmp_path / "o" / "mask" / "ckpt.pt").exists()
