"""The entry point of `python3 -m pigkit.flops` and `pig-flops`; the code lives in pigkit/benchmark/flops.py.

Multiply-accumulates of an ONNX graph: what a step costs at the least, for a ratio to a GPU's peak.
"""

import sys

from pigkit.benchmark.flops import main

if __name__ == "__main__":
    sys.exit(main())
