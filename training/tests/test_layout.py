"""The kit stays a package of parts a reader holds at once (training/README.md, "Layout"): no module
over 400 lines, no function over 80, and at the top of pigkit only the entry points of the commands
(`python3 -m pigkit.X`: a docstring, imports, the `__main__` call) and the public pipeline."""

import ast
from pathlib import Path

PIGKIT = Path(__file__).resolve().parents[1] / "pigkit"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80


def kit_files() -> list[Path]:
    return sorted(PIGKIT.rglob("*.py"))


def name_of(path: Path) -> str:
    return path.relative_to(PIGKIT.parent).as_posix() if path.is_relative_to(PIGKIT.parent) else path.name


def function_sizes(path: Path) -> list[tuple[str, int, int]]:
    """(name, line, lines) of each function or method longer than the limit, decorators aside."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                found.append((node.name, node.lineno, lines))
    return found


def long_functions(path: Path) -> list[str]:
    """'file:line name (N lines)' for each function over the limit."""
    return [f"{name_of(path)}:{line} {name} ({lines} lines)" for name, line, lines in function_sizes(path)]


def file_lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def is_main_guard(node: ast.stmt) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and [getattr(c, "value", None) for c in test.comparators] == ["__main__"]
    )


def is_thin(path: Path) -> bool:
    """A docstring, imports, `__all__` and the `if __name__ == "__main__"` call: nothing defined here."""
    for i, node in enumerate(ast.parse(path.read_text(encoding="utf-8")).body):
        docstring = i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        exports = isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]
        if not (docstring or exports or isinstance(node, (ast.Import, ast.ImportFrom)) or is_main_guard(node)):
            return False
    return True


def test_no_kit_file_is_over_the_line_limit():
    long = [f"{name_of(p)} ({n} lines)" for p in kit_files() if (n := file_lines(p)) > MAX_FILE_LINES]
    assert long == [], f"over {MAX_FILE_LINES} lines (split by concept into the part's folder): {long}"


def test_no_kit_function_is_over_the_line_limit():
    long = [f for p in kit_files() for f in long_functions(p)]
    assert long == [], f"functions over {MAX_FUNCTION_LINES} lines (split into named steps): {long}"


def test_the_top_of_the_kit_holds_only_entry_points_and_the_public_pipeline():
    top = [p for p in sorted(PIGKIT.glob("*.py")) if p.name != "__init__.py"]
    assert [name_of(p) for p in top if not is_thin(p)] == [], "code at the top of pigkit: move it into a part"
    assert {p.name for p in PIGKIT.iterdir() if p.is_dir() and p.name != "__pycache__"} == {
        "model",
        "data",
        "training",
        "exporter",
        "evaluation",
        "inference",
        "benchmark",
    }


def test_the_limits_catch_a_long_function_and_a_fat_entry_point(tmp_path):
    """The checks themselves: an 81-line function is named, a top-level module with a def is not thin."""
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 1))
    long = tmp_path / "pigkit" / "long.py"
    long.parent.mkdir()
    long.write_text(f"def f():\n{body}\n    return 0\n")
    assert [s.split(" ", 1)[1] for s in long_functions(long)] == [f"f ({MAX_FUNCTION_LINES + 1} lines)"]
    entry = tmp_path / "entry.py"
    entry.write_text(
        '"""Doc."""\n\nimport sys\n\nfrom pigkit.training.train import main\n\nif __name__ == "__main__":\n    sys.exit(main())\n'
    )
    assert is_thin(entry)
    entry.write_text(entry.read_text() + "\n\ndef helper():\n    return 1\n")
    assert not is_thin(entry)
