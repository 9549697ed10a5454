"""ONNX Runtime sessions for the kit: the Python `onnxruntime` package where it is installed,
otherwise onnxruntime-node from the repository's node_modules (Debian packages no onnxruntime),
one long-lived node process per model (ort_node_run.mjs). Either way the CPU session has the
studio CLI's options (src/engine/node.ts cpuOptions): every graph optimization, intra-op threads
that do not spin, and the thread count asked for, so a model gives the CLI's ε to the bit.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


class RuntimeUnavailable(RuntimeError):
    """Neither the Python onnxruntime package nor node with onnxruntime-node is there."""


class SessionError(RuntimeError):
    """ONNX Runtime could not open a model file, or a run failed."""


def python_ort():
    """The onnxruntime module, or None where it is not installed."""
    try:
        import onnxruntime  # noqa: PLC0415
    except ImportError:
        return None
    return onnxruntime


def node_runtime() -> str | None:
    """The node executable when onnxruntime-node is installed in the repository, else None."""
    node = shutil.which("node")
    return node if node and (REPO / "node_modules" / "onnxruntime-node").is_dir() else None


def default_providers() -> list[str]:
    """CUDA first where this onnxruntime has it (onnxruntime-gpu), then the CPU."""
    ort = python_ort()
    return [CUDA, CPU] if ort is not None and CUDA in ort.get_available_providers() else [CPU]


class PythonSession:
    def __init__(self, path: Path, threads: int | None, providers: list[str]):
        ort = python_ort()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads is not None:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as e:  # onnxruntime raises its own exception classes (Fail, InvalidProtobuf, ...)
            raise SessionError(f"ONNX Runtime could not open {path}: {e}") from e
        self.backend = f"onnxruntime {ort.__version__} ({', '.join(self.session.get_providers())})"
        self.outputs = [o.name for o in self.session.get_outputs()]

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self.outputs, self.session.run(None, feeds)))

    def close(self) -> None:
        self.session = None


class NodeSession:
    """onnxruntime-node in a child process (ort_node_run.mjs), float32 tensors over its pipes."""

    def __init__(self, path: Path, threads: int | None, node: str):
        script = Path(__file__).with_name("ort_node_run.mjs")
        args = [node, str(script), str(Path(path).resolve())] + ([str(threads)] if threads is not None else [])
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
        self.path = path
        ready = self._receive()[0]
        if "error" in ready:
            self.close()
            raise SessionError(f"ONNX Runtime (onnxruntime-node) could not open {path}: {ready['error']}")
        self.backend = "onnxruntime-node (CPU)"

    def _receive(self) -> tuple[dict, dict[str, np.ndarray]]:
        size = self.proc.stdout.read(4)
        if len(size) < 4:
            err = self.proc.stderr.read().decode(errors="replace").strip()
            raise SessionError(f"onnxruntime-node stopped on {self.path}: {err[-800:] or 'no message'}")
        header = json.loads(self.proc.stdout.read(struct.unpack("<I", size)[0]))
        out = {}
        for o in header.get("outputs", []):
            n = int(np.prod(o["shape"]))
            out[o["name"]] = np.frombuffer(self.proc.stdout.read(4 * n), dtype="<f4").reshape(o["shape"]).copy()
        return header, out

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        arrays = [np.ascontiguousarray(v, dtype="<f4") for v in feeds.values()]
        header = json.dumps({"inputs": [{"name": k, "shape": list(v.shape)} for k, v in zip(feeds, arrays)]}).encode()
        self.proc.stdin.write(struct.pack("<I", len(header)) + header + b"".join(a.tobytes() for a in arrays))
        self.proc.stdin.flush()
        reply, out = self._receive()
        if "error" in reply:
            raise SessionError(f"onnxruntime-node failed on {self.path}: {reply['error']}")
        return out

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


def open_session(path: Path, threads: int | None = None, providers: list[str] | None = None):
    """A session on `path` with .run(feeds) → {output name: array} and .close(); .backend says which."""
    if python_ort() is not None:
        return PythonSession(Path(path), threads, providers or default_providers())
    node = node_runtime()
    if node is None:
        raise RuntimeUnavailable(
            "running ONNX models needs the Python onnxruntime package (pip install onnxruntime) "
            "or node with onnxruntime-node (npm install in the repository)"
        )
    if providers and set(providers) != {CPU}:
        raise RuntimeUnavailable(
            f"providers {providers}: without the Python onnxruntime package only the CPU (onnxruntime-node) is available"
        )
    return NodeSession(Path(path), threads, node)


def run_once(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """All outputs of one run of a model on the CPU."""
    session = open_session(path, providers=[CPU])
    try:
        return session.run(feeds)
    finally:
        session.close()
