"""The entry point of `python3 -m pigkit.bench` and `pig-bench`; the code lives in pigkit/benchmark/bench.py.

Training and sampling speed of the presets on this machine (figures for the README and notes).
"""

import sys

from pigkit.benchmark.bench import main

if __name__ == "__main__":
    sys.exit(main())
