"""src/core/onnx-header.ts (the studio's and the CLI's external-data check) against the onnx
library's protobuf parser on fuzzed graphs: it must never miss a tensor kept outside the file."""

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from onnx_fuzz import REPO, corpus, parser, write

COMMITTED = Path(__file__).with_name("onnx-fuzz-corpus.json")
VITEST = REPO / "node_modules" / ".bin" / "vitest"


def test_the_committed_corpus_is_the_seeded_generators():
    """The vitest suite's own corpus: these bytes, and this parser's verdicts where it wrote them."""
    committed = json.loads(COMMITTED.read_text())
    for ours, theirs in zip(corpus(1, len(committed["cases"]), 0), committed["cases"], strict=True):
        assert ours["name"] == theirs["name"] and ours["bytes"] == base64.b64decode(theirs["base64"])
        if committed["parser"] == parser():
            assert {k: ours[k] for k in ("parseable", "locations", "invalid")} == {
                k: theirs[k] for k in ("parseable", "locations", "invalid")
            }, ours["name"]


@pytest.mark.skipif(not VITEST.exists() or not shutil.which("node"), reason="needs node and npm ci")
def test_the_header_parser_misses_nothing_on_a_fresh_corpus(tmp_path):
    """2,000 random structures and 400 mutations of the exported tiny graphs (another seed than the
    committed corpus), with this Python's verdicts, through onnx-header.fuzz.test.ts."""
    path = tmp_path / "corpus.json"
    write(corpus(int(os.environ.get("ONNX_FUZZ_SEED", "2")), 2000, 400), path)
    run = subprocess.run(
        [str(VITEST), "run", "src/core/onnx-header.fuzz.test.ts"],
        cwd=REPO,
        env={**os.environ, "ONNX_FUZZ_CORPUS": str(path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
