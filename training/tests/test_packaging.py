"""training/pyproject.toml: the SPDX licence and its file, the kit's commands and the test extra; a
wheel built from it (offline, where setuptools ≥ 77 is installed) carries them."""

import importlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python ≥ 3.11 (tomllib)")

TRAINING = Path(__file__).resolve().parents[1]
REPO = TRAINING.parent
PYPROJECT = tomllib.loads((TRAINING / "pyproject.toml").read_text())
SCRIPTS = PYPROJECT["project"].get("scripts", {})


def test_license_is_an_spdx_expression_with_the_repositorys_file():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (TRAINING / "LICENSE").read_bytes() == (REPO / "LICENSE").read_bytes()  # the copy is the repository's
    build = PYPROJECT["build-system"]["requires"]
    assert build == ["setuptools>=77"]  # the first setuptools that reads PEP 639's license and license-files


def test_the_test_extra_has_what_the_tests_import():
    assert {"pytest", "nibabel"} <= set(PYPROJECT["project"]["optional-dependencies"]["test"])


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_each_command_is_a_modules_main_and_prints_its_help(name, capsys):
    """pig-X = pigkit.X:main, main(argv) parses argv as `python3 -m pigkit.X` does: --help exits 0."""
    module, func = SCRIPTS[name].split(":")
    assert name == "pig-" + module.removeprefix("pigkit.").replace("_", "-")
    main = getattr(importlib.import_module(module), func)
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("usage: ")


def test_every_module_with_a_command_line_has_a_script():
    """A module run as `python3 -m pigkit.X` (it has main) is a pig-X command, except the repository's
    own fixture and benchmark-model makers."""
    internal = {"pigkit.golden", "pigkit.untrained"}
    with_main = {
        f"pigkit.{p.stem}"
        for p in (TRAINING / "pigkit").glob("*.py")
        if re.search(r"^def main\(argv=None\)", p.read_text(), re.M)
    }
    assert with_main - internal == {t.split(":")[0] for t in SCRIPTS.values()}


def setuptools_version() -> tuple[int, ...]:
    try:
        import setuptools  # noqa: PLC0415
    except ImportError:
        return (0,)
    return tuple(int(x) for x in re.findall(r"\d+", setuptools.__version__)[:2])


@pytest.mark.skipif(setuptools_version() < (77,), reason="building needs setuptools ≥ 77 (Debian 12 has 66; pip fetches it)")
def test_the_wheel_has_the_license_and_the_commands(tmp_path):
    """Built offline from a copy (setuptools writes build/ and *.egg-info beside pyproject.toml)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(TRAINING / name, src / name)
    shutil.copytree(TRAINING / "pigkit", src / "pigkit", ignore=shutil.ignore_patterns("__pycache__"))
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-index", "--no-build-isolation", "--no-deps", "-q", "-w", str(tmp_path)]
    proc = subprocess.run([*cmd, str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    [wheel] = tmp_path.glob("pigkit-*.whl")
    with zipfile.ZipFile(wheel) as z:
        info = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
        metadata = z.read(f"{info}/METADATA").decode()
        entry_points = z.read(f"{info}/entry_points.txt").decode()
        license_text = z.read(f"{info}/licenses/LICENSE")
        assert "pigkit/ort_node_run.mjs" in z.namelist()
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata
    assert 'Requires-Dist: nibabel; extra == "test"' in metadata
    assert license_text == (REPO / "LICENSE").read_bytes()
    for name, target in SCRIPTS.items():
        assert f"{name} = {target}" in entry_points
