"""The entry point of `python3 -m pigkit.train` and `pig-train`; the code lives in pigkit/training/train.py.

Train PIG's model_x ("mask") and then model_y ("image") on a folder of pairs.
"""

import sys

from pigkit.training.train import main

if __name__ == "__main__":
    sys.exit(main())
