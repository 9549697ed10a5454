"""The entry point of `python3 -m pigkit.export` and `pig-export`; the code lives in pigkit/exporter/export.py.

Export a trained pair to ONNX (static shapes) with its manifest.json (docs/contracts.md).
"""

import sys

from pigkit.exporter.export import main

if __name__ == "__main__":
    sys.exit(main())
