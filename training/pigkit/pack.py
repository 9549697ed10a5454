"""The entry point of `python3 -m pigkit.pack` and `pig-pack`; the code lives in pigkit/data/pack.py.

What travels to a device machine and back: a dataset packed into one file, a run's weights in float16.
"""

import sys

from pigkit.data.pack import main

if __name__ == "__main__":
    sys.exit(main())
