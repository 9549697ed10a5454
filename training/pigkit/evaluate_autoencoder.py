"""The entry point of `python3 -m pigkit.evaluate_autoencoder` and `pig-evaluate-autoencoder`;
the code lives in pigkit/evaluation/evaluate_autoencoder.py.

How well latent PIG's autoencoder keeps a slice, on held-out folds.
"""

import sys

from pigkit.evaluation.evaluate_autoencoder import main

if __name__ == "__main__":
    sys.exit(main())
