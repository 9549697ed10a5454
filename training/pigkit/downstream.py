"""The entry point of `python3 -m pigkit.downstream` and `pig-downstream`; the code lives in pigkit/evaluation/downstream.py.

Do generated pairs help a segmenter? The papers' downstream table on real data (EVALUATION.md).
"""

import sys

from pigkit.evaluation.downstream import main

if __name__ == "__main__":
    sys.exit(main())
