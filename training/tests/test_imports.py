"""The kit's modules import each other without a cycle, at module level: no import inside a function
is needed to break one, and no module but the CLI entry points depends on the training CLI."""

import ast
import subprocess
import sys
from pathlib import Path

PIGKIT = Path(__file__).resolve().parents[1] / "pigkit"


def modules() -> dict[str, Path]:
    """Every kit module by its dotted name under pigkit ("train", "training.train", …), packages' __init__ aside."""
    return {
        ".".join(p.relative_to(PIGKIT).with_suffix("").parts): p for p in sorted(PIGKIT.rglob("*.py")) if p.stem != "__init__"
    }


def kit_imports(path: Path) -> tuple[set[str], set[str]]:
    """The pigkit modules a file imports at module level, and those it imports inside a function."""
    top, nested = set(), set()
    tree = ast.parse(path.read_text(), str(path))

    def visit(node, inside):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ImportFrom) and (child.level or (child.module or "").startswith("pigkit")):
                names = [child.module] if child.module else [a.name for a in child.names]
                for name in names:
                    (nested if inside else top).add(name.removeprefix("pigkit."))
            visit(child, inside or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(tree, False)
    return top, nested


def test_no_import_cycle_and_no_function_level_kit_imports():
    graph, nested = {}, {}
    for name, path in modules().items():
        graph[name], inner = kit_imports(path)
        if inner:
            nested[name] = sorted(inner)
    assert nested == {}, f"kit modules imported inside functions: {nested}"

    def cycle_from(node, stack):
        if node in stack:
            return stack[stack.index(node) :] + [node]
        for nxt in sorted(graph.get(node, ())):
            found = cycle_from(nxt, stack + [node])
            if found:
                return found
        return None

    for module in graph:
        cycle = cycle_from(module, [])
        assert cycle is None, "import cycle: " + " → ".join(cycle)
    # the training CLI's code: only its entry point (pigkit/training/train.py) imports it
    assert [m for m, deps in graph.items() if "training.train" in deps] == ["train"]
    assert "training.checkpoint" in graph["exporter.export"] and "training.train" not in graph["exporter.onnx_import"]


def test_every_module_imports_first_in_a_fresh_interpreter():
    """Imported on its own, first, each module loads (a cycle broken only by import order fails here)."""
    script = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    for m in [m for m in sys.modules if m == 'pigkit' or m.startswith('pigkit.')]:\n"
        "        del sys.modules[m]\n"
        "    importlib.import_module('pigkit.' + name)\n"
    )
    names = sorted(modules())
    proc = subprocess.run([sys.executable, "-c", script, *names], cwd=PIGKIT.parent, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
