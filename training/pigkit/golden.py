"""The entry point of `python3 -m pigkit.golden`; the code lives in pigkit/inference/golden.py.

Golden fixture for the TypeScript sampler: the reference joint loop on an exported pair.
"""

import sys

from pigkit.inference.golden import main

if __name__ == "__main__":
    sys.exit(main())
