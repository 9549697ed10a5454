"""The entry point of `python3 -m pigkit.export_latent` and `pig-export-latent`;
the code lives in pigkit/exporter/export_latent.py.

Export a latent or attribute-conditioned pair (manifest format 2, docs/contracts.md §6).
"""

import sys

from pigkit.exporter.export_latent import main

if __name__ == "__main__":
    sys.exit(main())
