"""Latent PIG and attributes in the kit: the attribute table, the latent data, the sampler's
C-channel chains and guidance, training, the format-2 export and its golden fixture."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_train_argv

from pigkit import export_latent, golden, train, train_autoencoder
from pigkit.attributes import AttributeError_, AttributeSpec, case_attributes, drop_attributes, read_table
from pigkit.latent import masks_to_grid, upsample_bilinear
from pigkit.noise import NoiseStream
from pigkit.sampler import SeededNoise, conditioned
from pigkit.schedule import stored_as_float32
from pigkit.unet import attribute_onehot, build_unet

TABLE = "ID,Pathology,BIRADS,Device\n" + "".join(
    f"bus_{i:04d}-l,{['benign', 'malignant'][i % 2]},{[2, 3, 4, 5, 4, 10][i]},{'AB'[i // 3]}\n" for i in range(6)
)


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "bus_data.csv"
    path.write_text(TABLE)
    return path


def test_attribute_table_values_codes_and_requests(table):
    spec, cases = read_table(table)
    assert spec.names == ("pathology", "birads", "scanner")
    assert spec.values == (("benign", "malignant"), ("2", "3", "4", "5", "10"), ("A", "B"))  # numbers in numeric order
    assert cases["bus_0001-l"] == [2, 2, 1] and cases["bus_0005-l"] == [2, 5, 2]
    assert spec.encode({"pathology": "malignant"}) == [2, 0, 0]
    assert spec.encode({"birads": "any"}) == [0, 0, 0]
    with pytest.raises(AttributeError_, match=r"pathology=unsure is not a value .*benign, malignant"):
        spec.encode({"pathology": "unsure"})
    with pytest.raises(AttributeError_, match="unknown attribute"):
        spec.encode({"colour": "red"})
    assert AttributeSpec.from_dict(spec.to_dict()) == spec
    ids = case_attributes(["bus_0000-l", "not-in-table"], cases, spec)
    assert ids.tolist() == [[1, 1, 1], [0, 0, 0]]


def test_attribute_table_refuses_missing_columns(tmp_path):
    (tmp_path / "t.csv").write_text("ID,Pathology\nbus_1,benign\n")
    with pytest.raises(AttributeError_, match="no column"):
        read_table(tmp_path / "t.csv")


def test_drop_and_onehot():
    a = torch.tensor([[1, 2], [2, 0]])
    assert torch.equal(drop_attributes(a, 0.0), a) and not drop_attributes(a, 1.0).any()
    onehot = attribute_onehot(a, (2, 3))
    assert onehot.tolist() == [[0, 1, 0, 0, 0, 1, 0], [0, 0, 1, 1, 0, 0, 0]]


def test_masks_to_grid_is_the_area_fraction_at_one_half():
    m = -torch.ones(1, 1, 8, 8)
    m[..., :2, :2] = 1  # a quarter of cell (0, 0): background
    m[..., 4:6, 4:8] = 1  # half of cells (1, 1) and (1, 2)... of a 4×4 grid cell: 8 of 16 pixels each
    grid = masks_to_grid(m, 4)
    assert grid.tolist() == [[[[-1.0, -1.0], [-1.0, 1.0]]]]


def test_upsample_bilinear_is_pytorchs_half_pixel_interpolation():
    x = torch.randn(1, 1, 5, 7, dtype=torch.float64)
    ref = F.interpolate(x, size=(20, 28), mode="bilinear", align_corners=False)
    assert (upsample_bilinear(x, (20, 28)) - ref).abs().max() < 1e-12
    # by hand: output 0 of a 2 → 8 upsampling sits at source −3/8, clamped to 0; output 2 at 1/8
    y = upsample_bilinear(torch.tensor([[[[0.0, 1.0]]]], dtype=torch.float64), (1, 8))
    assert y[0, 0, 0, 0] == 0 and y[0, 0, 0, 2] == 0.125 and y[0, 0, 0, 7] == 1


def test_seeded_noise_of_c_channels_is_one_stream_row_major():
    one = SeededNoise([5], (4, 4)).initial(1)
    four = SeededNoise([5], (4, 4)).initial(1, 4)
    assert torch.equal(one[0, 0], four[0, 0])  # C = 1 is contracts §3 exactly: its first H·W values
    expected = torch.from_numpy(NoiseStream(5, 1).gaussian(64)).view(4, 4, 4)
    assert torch.equal(four[0], expected)


def test_guidance_is_e0_plus_w_times_the_difference():
    def model(inp, t, attrs):
        return inp * 0 + attrs.sum()  # ε = the number of "on" entries beyond "none"

    a, none = torch.tensor([[0.0, 1.0, 0.0, 1.0]]), torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    x = torch.zeros(1, 1, 2, 2, dtype=torch.float64)
    model_a = lambda inp, t, attrs: inp * 0 + (3.0 if torch.equal(attrs, a) else 1.0)  # noqa: E731
    assert torch.all(conditioned(model_a, a, 2.5, none, stored_as_float32)(x, None) == 1 + 2.5 * (3 - 1))
    assert torch.all(conditioned(model_a, a, 1.0, none)(x, None) == 3)  # w = 1: one forward on a
    assert torch.all(conditioned(model_a, none, 7.0, none)(x, None) == 1)  # all "none": one forward
    assert conditioned(model, None) is model


def test_unet_attributes_start_unconditional_and_the_onehot_equals_the_indices():
    torch.manual_seed(0)
    m = build_unet("tiny", 16, attributes=(2, 3), in_channels=5, out_channels=4)
    x, t, ids = torch.randn(2, 5, 16, 16), torch.tensor([3.0, 900.0]), torch.tensor([[1, 2], [0, 3]])
    assert torch.equal(m(x, t), m(x, t, attrs=ids))  # zero table
    torch.nn.init.normal_(m.attr_table)
    assert torch.equal(m(x, t, attrs=ids), m(x, t, attrs=attribute_onehot(ids, (2, 3))))
    assert not torch.equal(m(x, t), m(x, t, attrs=ids))


@pytest.fixture
def latent_run(pair_folder, table, tmp_path):
    run = tmp_path / "run"
    ae_argv = ["--data", str(pair_folder), "--out", str(run), "--resolution", "32", "--crop", "16", "--channels", "4,8,8"]
    ae_argv += ["--latent-channels", "2", "--batch", "2", "--iters", "3", "--threads", "1"]
    assert train_autoencoder.main(ae_argv) == 0
    extra = ["--autoencoder", str(run / "autoencoder" / "ckpt.pt"), "--attributes", str(table), "--flip"]
    for model in ("mask", "image"):
        assert train.main(tiny_train_argv(model, pair_folder, run, *extra, resolution=32, iters=2)) == 0
    return run


def test_latent_training_records_its_latents_and_attributes(latent_run):
    cfg = json.loads((latent_run / "image" / "config.json").read_text())
    assert cfg["resolution"] == 8 and cfg["latent"]["image_resolution"] == 32
    assert cfg["overrides"] == {"in_channels": 3, "out_channels": 2, "attributes": [2, 5, 2]}
    assert cfg["latent"]["scale"] > 0 and cfg["attributes"]["drop"] == 0.15


def test_the_image_model_refuses_a_mask_model_of_other_attributes(latent_run, pair_folder, table, tmp_path, capsys):
    other = tmp_path / "other.csv"
    other.write_text(TABLE.replace(",A\n", ",C\n"))
    extra = ["--autoencoder", str(latent_run / "autoencoder" / "ckpt.pt"), "--attributes", str(other)]
    argv = tiny_train_argv(
        "image", pair_folder, tmp_path / "x", *extra, "--mask-ckpt", str(latent_run / "mask" / "ckpt.pt"), resolution=32
    )
    assert train.main(argv) == 2
    assert "train both with the same" in capsys.readouterr().err


def test_format2_export_runs_on_onnx_runtime_and_the_golden_fixture_is_complete(latent_run, pair_folder, tmp_path):
    out = tmp_path / "model"
    argv = ["--run", str(latent_run), "--out", str(out), "--name", "t", "--steps", "4", "--data", str(pair_folder)]
    assert export_latent.main([*argv, "--weights-out", str(tmp_path / "slim"), "--eta", "1"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sampler"]["eta"] == 1 and manifest["sampler"]["clip"] == "none"
    assert manifest["format"] == 2 and manifest["latent"]["grid"] == [8, 8] and manifest["latent"]["channels"] == 2
    assert [a["name"] for a in manifest["attributes"]] == ["pathology", "birads", "scanner"]
    assert manifest["models"]["mask"]["inputs"][2] == {"name": "a", "shape": [1, 12]}
    assert manifest["models"]["decoder"]["outputs"][0]["shape"] == [1, 1, 32, 32]
    for role, errors in manifest["card"]["exportMaxAbsError"].items():
        assert max(errors.values()) < 1e-4, role  # ONNX within 1e-4 of PyTorch ([13] item 5)
    assert len(manifest["latent"]["preview"]["weights"]) == 2
    fixture = tmp_path / "golden.json"
    gargv = ["--format2", "--run", str(tmp_path / "slim"), "--name", "t", "--steps", "3", "--attr", "pathology=malignant"]
    gargv += ["--guidance", "2", "--autoencoder", str(tmp_path / "slim" / "autoencoder" / "ckpt.pt"), "--out", str(fixture)]
    assert golden.main(gargv) == 0
    g = json.loads(fixture.read_text())
    assert g["attributes"] == {"pathology": "malignant", "birads": "any", "scanner": "any"}
    assert len(g["zT"]) == 2 * 8 * 8 and len(g["frames"]) == 3 and len(g["frames"][0]["z0"]) == 128
    assert len(g["mask"]) == len(g["image"]) == 32 * 32 and set(g["mask"]) <= {-1.0, 1.0}
    assert np.abs(g["image"]).max() <= 1


def test_a_pixel_run_is_not_exported_as_format_2(pair_folder, tmp_path, capsys):
    for model in ("mask", "image"):
        assert train.main(tiny_train_argv(model, pair_folder, tmp_path / "run", iters=1)) == 0
    assert export_latent.main(["--run", str(tmp_path / "run"), "--out", str(tmp_path / "m"), "--name", "x"]) == 2
    assert "pigkit.export (format 1)" in capsys.readouterr().err
