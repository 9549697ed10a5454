"""The entry point of `python3 -m pigkit.fp16` and `pig-fp16`; the code lives in pigkit/exporter/fp16.py.

A model folder's graphs in float16 (weights and arithmetic; inputs and outputs stay float32).
"""

import sys

from pigkit.exporter.fp16 import main

if __name__ == "__main__":
    sys.exit(main())
