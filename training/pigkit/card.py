"""The entry point of `python3 -m pigkit.card` and `pig-card`; the code lives in pigkit/exporter/card.py.

Model cards: a folder's README.md (Hugging Face layout) from its manifest, data card and figures.
"""

import sys

from pigkit.exporter.card import main

if __name__ == "__main__":
    sys.exit(main())
