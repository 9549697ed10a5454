"""pigkit.share_weights: one weights file per U-Net, shared by its plain and step graphs; the same ε,
bit for bit, as the self-contained layout; both layouts read by the kit; bad folders named."""

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from test_export import needs_ort

from pigkit.exporter.manifest import ManifestError, external_data_files, model_file, read_manifest, sha256_of
from pigkit.exporter.share_weights import ALIGN, SIZE_THRESHOLD, convert_folder, inline_folder, main
from pigkit.inference.runtime import NodeSession, PythonSession, node_runtime, python_ort

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "public" / "models" / "tiny"
GRAPHS = ("mask.onnx", "image.onnx", "mask_step.onnx", "image_step.onnx")


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """The tiny pair in both layouts, whichever one the repository holds: `old` self-contained (made
    by inlining), `new` with shared weights files (converted from `old`)."""
    root = tmp_path_factory.mktemp("layouts")
    old = root / "old"
    inline_folder(TINY, old)
    new = shutil.copytree(old, root / "new")
    convert_folder(new)
    return old, new


def folder_bytes(folder: Path) -> dict[str, int]:
    m = read_manifest(folder)
    files = {e["file"] for e in m["models"].values()} | {e["weights"]["file"] for e in m["models"].values() if "weights" in e}
    return {f: (folder / f).stat().st_size for f in sorted(files)}


def test_both_graphs_of_a_unet_point_into_one_file_and_the_folder_halves(layouts):
    old, new = layouts
    m = read_manifest(new)
    for plain, step, weights in (("mask", "maskStep", "mask.weights"), ("image", "imageStep", "image.weights")):
        a, b = m["models"][plain], m["models"][step]
        assert (
            a["weights"]
            == b["weights"]
            == {
                "file": weights,
                "bytes": (new / weights).stat().st_size,
                "sha256": sha256_of(new / weights),
            }
        )
        regions = []
        for entry in (a, b):
            graph = onnx.load(str(new / entry["file"]), load_external_data=False)
            assert external_data_files(graph) == {weights}
            assert graph.ir_version <= 13  # onnxruntime 1.30 opens no newer file
            external = [t for t in graph.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
            inline = [t for t in graph.graph.initializer if t.data_location != onnx.TensorProto.EXTERNAL]
            assert all(len(t.raw_data) < SIZE_THRESHOLD for t in inline) and external
            info = [{e.key: e.value for e in t.external_data} for t in external]
            assert all(int(i["offset"]) % ALIGN == 0 for i in info)
            regions.append({(int(i["offset"]), int(i["length"])) for i in info})
        # the step graph's large tensors are the plain graph's, found by content under other names
        assert regions[0] == regions[1]
        end = max(o + n for o, n in regions[0])
        assert end == (new / weights).stat().st_size
    before, after = sum(folder_bytes(old).values()), sum(folder_bytes(new).values())
    assert after < 0.6 * before, (before, after)
    print(f"tiny: {before} → {after} bytes ({folder_bytes(new)})")


def test_round_trip_gives_back_the_self_contained_files_byte_for_byte(layouts, tmp_path):
    old, new = layouts
    back = tmp_path / "back"
    inline_folder(new, back)
    for name in (*GRAPHS, "manifest.json", "README.md"):
        assert (back / name).read_bytes() == (old / name).read_bytes(), name
    assert not list(back.glob("*.weights"))
    # converting a folder already shared rewrites the same bytes
    again = shutil.copytree(new, tmp_path / "again")
    convert_folder(again)
    for name in (*GRAPHS, "mask.weights", "image.weights", "manifest.json", "README.md"):
        assert (again / name).read_bytes() == (new / name).read_bytes(), name


def test_the_model_card_lists_the_weights_files(layouts):
    _old, new = layouts
    readme = (new / "README.md").read_text()
    size = (new / "mask.weights").stat().st_size
    assert f"| `mask.weights` | {size} | the weights of `mask.onnx` and `mask_step.onnx` (ONNX external data) |" in readme
    assert f"| `mask.onnx` | {(new / 'mask.onnx').stat().st_size} |" in readme


def random_feeds(entry: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    feeds = {}
    for i in entry["inputs"]:
        name, shape = i["name"], i["shape"]
        if name == "t":
            feeds[name] = np.array([417.0], np.float32)
        elif name == "k":
            feeds[name] = np.array([0.8, 0.6, 0.81, 0.1, 0.55], np.float32)
        elif name == "clip":
            feeds[name] = np.array([1.0], np.float32)
        elif name == "c":
            feeds[name] = np.where(rng.random(shape) > 0.8, 1.0, -1.0).astype(np.float32)
        else:
            feeds[name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


RUNTIMES = {
    "python onnxruntime": (python_ort() is not None, lambda path: PythonSession(path, 1, ["CPUExecutionProvider"])),
    "onnxruntime-node": (node_runtime() is not None, lambda path: NodeSession(path, 1, node_runtime())),
}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_shared_graphs_give_the_old_outputs_bit_for_bit(layouts, runtime):
    present, session = RUNTIMES[runtime]
    if not present:
        pytest.skip(f"{runtime} is not installed here")
    old, new = layouts
    m = read_manifest(new)
    rng = np.random.default_rng(0)
    for role, entry in m["models"].items():
        feeds = random_feeds(entry, rng)
        outputs = []
        for folder in (old, new):
            s = session(model_file(folder, read_manifest(folder), role))
            try:
                outputs.append(s.run(feeds))
            finally:
                s.close()
        assert outputs[0].keys() == outputs[1].keys() and outputs[0]
        for name in outputs[0]:
            assert np.array_equal(outputs[0][name], outputs[1][name]), f"{role} {name}"


@needs_ort
def test_the_pipeline_and_init_from_read_both_layouts(layouts):
    from pigkit.exporter.onnx_import import init_from_bundle
    from pigkit.pipeline import PigPipeline

    old, new = layouts
    outs = []
    for folder in (old, new):
        with PigPipeline.from_pretrained(folder, providers=["CPUExecutionProvider"], threads=1) as pipe:
            outs.append(pipe(seed=5, num_inference_steps=3))
    assert np.array_equal(outs[0].image, outs[1].image) and np.array_equal(outs[0].mask, outs[1].mask)
    a, facts_old = init_from_bundle(old, "image", "tiny", 32)
    b, facts_new = init_from_bundle(new, "image", "tiny", 32)
    assert a.keys() == b.keys() and all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    assert "weights" not in facts_old and facts_new["weights"]["file"] == "image.weights"


def write_manifest(folder: Path, m: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(m, indent=2))


def test_a_missing_or_wrong_weights_file_is_named(layouts, tmp_path):
    _old, new = layouts
    folder = shutil.copytree(new, tmp_path / "m")
    m = read_manifest(folder)
    (folder / "mask.weights").rename(folder / "kept.weights")
    with pytest.raises(ManifestError, match=r"mask\.weights is missing: manifest\.json names it as models\.mask\.weights\.file"):
        model_file(folder, m, "mask")
    data = (folder / "kept.weights").read_bytes()
    (folder / "mask.weights").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ManifestError, match=r"mask\.weights has SHA-256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}"):
        model_file(folder, m, "maskStep")
    (folder / "mask.weights").write_bytes(data[:1000])
    with pytest.raises(ManifestError, match=r"mask\.weights has 1000 bytes, the manifest says \d+"):
        model_file(folder, m, "mask")


def test_weights_file_names_with_a_folder_or_disagreeing_entries_are_refused(layouts, tmp_path):
    _old, new = layouts
    folder = shutil.copytree(new, tmp_path / "m")
    good = read_manifest(folder)
    for bad in ("../mask.weights", "sub/mask.weights", "..", "/etc/passwd"):
        m = json.loads(json.dumps(good))
        m["models"]["mask"]["weights"]["file"] = bad
        write_manifest(folder, m)
        with pytest.raises(ManifestError, match=r"models\.mask\.weights\.file must be a plain file name in the model folder"):
            read_manifest(folder)
    m = json.loads(json.dumps(good))
    m["models"]["maskStep"]["weights"]["sha256"] = "0" * 64
    write_manifest(folder, m)
    with pytest.raises(
        ManifestError,
        match=r"models\.maskStep\.weights names mask\.weights as manifest\.models\.mask\.weights does, but with another",
    ):
        read_manifest(folder)
    m = json.loads(json.dumps(good))
    m["models"]["image"]["weights"]["file"] = "mask.onnx"
    write_manifest(folder, m)
    with pytest.raises(ManifestError, match=r'models\.image\.weights\.file "mask\.onnx" is a model graph or the manifest'):
        read_manifest(folder)


def test_a_graph_whose_external_data_is_elsewhere_is_refused(layouts, tmp_path):
    _old, new = layouts
    folder = shutil.copytree(new, tmp_path / "m")
    m = read_manifest(folder)
    graph = onnx.load(str(folder / "mask.onnx"), load_external_data=False)
    for t in graph.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "../mask.weights"
    (folder / "mask.onnx").write_bytes(graph.SerializeToString())
    m["models"]["mask"].update(sha256=sha256_of(folder / "mask.onnx"), bytes=(folder / "mask.onnx").stat().st_size)
    with pytest.raises(
        ManifestError, match=r'mask\.onnx keeps tensors in "\.\./mask\.weights": external data must be a plain file name'
    ):
        model_file(folder, m, "mask")
    # a graph with external data whose manifest names no weights file for it (an old manifest over new files)
    del m["models"]["maskStep"]["weights"]
    with pytest.raises(
        ManifestError, match=r"mask_step\.onnx keeps tensors in mask\.weights, but the manifest names no weights file for it"
    ):
        model_file(folder, m, "maskStep")


def test_cli_converts_in_place_and_writes_a_self_contained_copy(layouts, tmp_path, capsys):
    old, new = layouts
    folder = shutil.copytree(old, tmp_path / "m")
    assert main(["--model", str(folder)]) == 0
    assert "mask.weights" in capsys.readouterr().err
    assert (folder / "manifest.json").read_bytes() == (new / "manifest.json").read_bytes()
    assert main(["--model", str(folder), "--inline", str(tmp_path / "back")]) == 0
    assert (tmp_path / "back" / "mask_step.onnx").read_bytes() == (old / "mask_step.onnx").read_bytes()
    assert main(["--model", str(tmp_path / "nothing")]) == 2
    assert "no such model folder" in capsys.readouterr().err
