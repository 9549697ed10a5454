"""The entry point of `python3 -m pigkit.untrained`; the code lives in pigkit/benchmark/untrained.py.

An untrained (randomly initialised) checkpoint pair in a run folder, for benchmarks.
"""

import sys

from pigkit.benchmark.untrained import main

if __name__ == "__main__":
    sys.exit(main())
