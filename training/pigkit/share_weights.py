"""The entry point of `python3 -m pigkit.share_weights` and `pig-share-weights`;
the code lives in pigkit/exporter/share_weights.py.

One copy of each U-Net's weights in a model folder (docs/contracts.md §2, `weights`).
"""

import sys

from pigkit.exporter.share_weights import main

if __name__ == "__main__":
    sys.exit(main())
