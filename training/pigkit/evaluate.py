"""The entry point of `python3 -m pigkit.evaluate` and `pig-evaluate`; the code lives in pigkit/evaluation/evaluate.py.

A trained pair's figures against held-out real data; `real-vs-synthetic`: can a classifier tell its images from real ones.
"""

import sys

from pigkit.evaluation.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
