"""The entry point of `python3 -m pigkit.segment` and `pig-segment`; the code lives in pigkit/evaluation/segment.py.

Segmentation U-Nets and Dice/IoU: train the evaluation segmenter.
"""

import sys

from pigkit.evaluation.segment import main

if __name__ == "__main__":
    sys.exit(main())
